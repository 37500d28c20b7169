using Candor.Tests.Delivery;
using Candor.TestSupport;

namespace Candor.Tests.Catalog;

/// <summary>What the catalog lets through, checked on the wire of a real loopback collector.</summary>
public sealed class EventShapingTests
{
    [Fact]
    public async Task AnUndeclaredEventIsDroppedWithoutThrowing()
    {
        var events = await SendAsync(client =>
        {
            client.Track("not_declared", new EventProperty("x", 1));
            client.Track("tick", new EventProperty("i", 1));
        });

        Assert.Equal(["tick"], events.Select(e => e.Name));
    }

    [Fact]
    public async Task AnUndeclaredPropertyIsDroppedAndTheDeclaredOnesKept()
    {
        var events = await SendAsync(client => client.Track("pipeline", new EventProperty("nodes", 3), new EventProperty("customer", "Globex")));

        var properties = Assert.Single(events).Properties!;
        Assert.Equal(["nodes"], properties.Keys);
    }

    [Fact]
    public async Task ValuesOfTheWrongTypeOrOutOfRangeAreDroppedAndValidOnesKept()
    {
        var events = await SendAsync(client => client.Track("pipeline",
            new EventProperty("nodes", "three"),
            new EventProperty("ratio", 1.5),
            new EventProperty("cached", true),
            new EventProperty("mode", "reckless")));
        var moreEvents = await SendAsync(client => client.Track("pipeline",
            new EventProperty("nodes", -1),
            new EventProperty("ratio", 1),
            new EventProperty("mode", "safe"),
            new EventProperty("cached", double.NaN)));

        Assert.Equal(["cached"], Assert.Single(events).Properties!.Keys);
        var kept = Assert.Single(moreEvents).Properties!;
        Assert.Equal(["mode", "ratio"], kept.Keys.Order());
        Assert.Equal(1.0, kept["ratio"].AsNumber);
    }

    [Fact]
    public async Task AnEventMissingARequiredPropertyIsDropped()
    {
        var events = await SendAsync(client =>
        {
            client.Track("command", new EventProperty("exit_code", 0));
            client.Track("tick");
        });

        Assert.Empty(events);
    }

    [Fact]
    public async Task StringsAreRedactedThenCutToTheDeclaredLength()
    {
        var events = await SendAsync(client => client.Track("pipeline", new EventProperty("name", "load /home/alice/data/customers.csv into the warehouse")));

        Assert.Equal("load <path> into the", Assert.Single(events).Properties!["name"].AsString);
    }

    [Fact]
    public async Task NullValuesAreLeftOut()
    {
        var events = await SendAsync(client => client.Track("pipeline", new EventProperty("name", null), new EventProperty("nodes", 1)));

        Assert.Equal(["nodes"], Assert.Single(events).Properties!.Keys);
    }

    [Fact]
    public async Task WithoutACatalogEveryEventIsDropped()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(collector.BaseAddress, o => o.Catalog = null), environment);

        client.Track("tick", new EventProperty("i", 1));
        client.Dispose();

        Assert.Empty(collector.Requests);
    }

    [Fact]
    public async Task AVerbatimStringKeepsARouteTemplateThatAPlainStringWouldRedactAsAPath()
    {
        var catalog = new Candor.Catalog.EventCatalog().Add(new Candor.Catalog.EventDefinition("route_used", "A route was used.")
            .VerbatimString("route", "The route template.", maxLength: 12)
            .String("typed", "A value a user typed."));

        var events = await SendAsync(client => client.Track("route_used",
            new EventProperty("route", "/items/{id}/parts"), new EventProperty("typed", "/items/{id}/parts")), catalog);

        var properties = Assert.Single(events).Properties!;
        Assert.Equal("/items/{id}/", properties["route"].AsString); // cut to its length, not redacted
        Assert.Equal("<path>", properties["typed"].AsString);
    }

    private static async Task<List<Protocol.TelemetryEvent>> SendAsync(Action<CandorClient> track, Candor.Catalog.EventCatalog? catalog = null)
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(collector.BaseAddress, o => o.Catalog = catalog ?? o.Catalog), environment);
        track(client);
        client.Dispose();
        return [.. collector.Events];
    }
}
