using Candor.Collector.Storage;
using Candor.Protocol;

namespace Candor.Collector.Tests.Storage;

/// <summary>What every storage engine must do; run against DuckDB and a real PostgreSQL.</summary>
public abstract class EventStoreContract : IAsyncLifetime
{
    private readonly List<IEventStore> _opened = [];

    /// <summary>Opens (and initializes) a store over this test's storage; a second call reopens the same storage.</summary>
    private protected abstract IEventStore Create();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var store in _opened)
        {
            await store.DisposeAsync();
        }
    }

    private async Task<IEventStore> OpenAsync()
    {
        var store = Create();
        _opened.Add(store);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    [Fact]
    public async Task AStoredEventReadsBackWithItsContextPropertiesAndDerivedFacts()
    {
        var store = await OpenAsync();
        var record = Record("acme");

        var duplicates = await store.WriteAsync([record], [], CancellationToken.None);

        Assert.Equal([false], duplicates);
        var stored = Assert.Single(await store.ReadRecentAsync("acme", 10, CancellationToken.None));
        Assert.Equal(record.Id, stored.Id);
        Assert.Equal("command", stored.Name);
        Assert.Equal("1-0-0", stored.Version);
        Assert.Equal(record.Time, stored.Time, TimeSpan.FromMilliseconds(1));
        Assert.Equal(record.ReceivedAt, stored.ReceivedAt, TimeSpan.FromMilliseconds(1));
        Assert.Equal("1.4.0", stored.Context.ProductVersion);
        Assert.Equal(record.Context.InstallId, stored.Context.InstallId);
        Assert.True(stored.Context.Ci);
        Assert.Equal("run", stored.Properties!["command"].AsString);
        Assert.Equal(12, stored.Properties!["duration_ms"].AsInteger);
        Assert.Equal(("GB", "ENG", "0123abcd"), (stored.Country, stored.Region, stored.IpPseudonym));
    }

    [Fact]
    public async Task WhereTheProcessRunsIsStoredAndReadBackAndLeftEmptyWhenTheClientSaidNothing()
    {
        var store = await OpenAsync();
        var located = Record("acme");
        located.Context.InstallIdPerProcess = true;
        (located.Context.Cloud, located.Context.CloudPlatform, located.Context.CloudRegion, located.Context.Container) =
            ("aws", "ecs", "eu-west-1", "docker");

        await store.WriteAsync([located, Record("acme")], [], CancellationToken.None);

        var stored = (await store.ReadRecentAsync("acme", 10, CancellationToken.None)).ToDictionary(e => e.Id, e => e.Context);
        var c = stored[located.Id];
        Assert.Equal((true, "aws", "ecs", "eu-west-1", "docker"), (c.InstallIdPerProcess, c.Cloud, c.CloudPlatform, c.CloudRegion, c.Container));
        var plain = Assert.Single(stored, s => s.Key != located.Id).Value;
        Assert.Equal((false, null, null, null, null), (plain.InstallIdPerProcess, plain.Cloud, plain.CloudPlatform, plain.CloudRegion, plain.Container));
    }

    [Fact]
    public async Task AnEventIdAlreadyStoredForTheProductIsADuplicateAndNotStoredAgain()
    {
        var store = await OpenAsync();
        var first = Record("acme");
        await store.WriteAsync([first], [], CancellationToken.None);

        var duplicates = await store.WriteAsync([Record("acme", first.Id), Record("acme")], [], CancellationToken.None);

        Assert.Equal([true, false], duplicates);
        Assert.Equal(2, (await store.ReadRecentAsync("acme", 10, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task AnEventIdRepeatedWithinOneGroupIsStoredOnce()
    {
        var store = await OpenAsync();
        var id = Guid.CreateVersion7();

        var duplicates = await store.WriteAsync([Record("acme", id), Record("acme", id)], [], CancellationToken.None);

        Assert.Equal([false, true], duplicates);
        Assert.Single(await store.ReadRecentAsync("acme", 10, CancellationToken.None));
    }

    [Fact]
    public async Task TheSameEventIdInAnotherProductIsNotADuplicate()
    {
        var store = await OpenAsync();
        var id = Guid.CreateVersion7();

        var duplicates = await store.WriteAsync([Record("acme", id), Record("beta", id)], [], CancellationToken.None);

        Assert.Equal([false, false], duplicates);
        Assert.Single(await store.ReadRecentAsync("beta", 10, CancellationToken.None));
    }

    [Fact]
    public async Task DuplicatesAreRecognisedAfterTheStoreIsReopened()
    {
        var id = Guid.CreateVersion7();
        var first = await OpenAsync();
        await first.WriteAsync([Record("acme", id)], [], CancellationToken.None);
        await first.DisposeAsync();
        _opened.Remove(first);

        var second = await OpenAsync();
        var duplicates = await second.WriteAsync([Record("acme", id)], [], CancellationToken.None);

        Assert.Equal([true], duplicates);
        Assert.Single(await second.ReadRecentAsync("acme", 10, CancellationToken.None));
    }

    [Fact]
    public async Task QuarantinedEventsAreKeptWithTheirReasonAndCommittedWithTheGroup()
    {
        var store = await OpenAsync();
        var id = Guid.CreateVersion7();
        var rejected = new QuarantineRecord
        {
            Product = "acme",
            EventId = id,
            ReasonCode = ErrorCodes.UndeclaredProperty,
            Message = "'path' is not declared",
            SchemaRef = "acme/command/1-0-0",
            ReceivedAt = DateTimeOffset.UtcNow,
            EventJson = """{"id":"x","name":"command"}""",
        };

        await store.WriteAsync([Record("acme")], [rejected], CancellationToken.None);

        var quarantined = Assert.Single(await store.ReadQuarantineAsync("acme", 10, CancellationToken.None));
        Assert.Equal((id, "undeclared_property", "acme/command/1-0-0"), (quarantined.EventId, quarantined.ReasonCode, quarantined.SchemaRef));
        Assert.Equal(rejected.EventJson, quarantined.EventJson);
        Assert.Single(await store.ReadRecentAsync("acme", 10, CancellationToken.None));
    }

    [Fact]
    public async Task TheQuarantineSummaryCountsAProductsRejectionsInTheRangeByReasonAndBySchema()
    {
        var store = await OpenAsync();
        var day = new DateTimeOffset(2026, 11, 10, 0, 0, 0, TimeSpan.Zero);
        QuarantineRecord Rejected(string product, string reason, string? schema, DateTimeOffset at) => new()
        {
            Product = product,
            EventId = Guid.CreateVersion7(),
            ReasonCode = reason,
            Message = "rejected",
            SchemaRef = schema,
            ReceivedAt = at,
            EventJson = "{}",
        };

        await store.WriteAsync([], [
            Rejected("acme", ErrorCodes.UndeclaredProperty, "acme/command/1-0-0", day.AddHours(1)),
            Rejected("acme", ErrorCodes.UndeclaredProperty, "acme/command/1-0-0", day.AddHours(2)),
            Rejected("acme", ErrorCodes.UndeclaredProperty, "acme/sync/1-0-0", day.AddHours(3)),
            Rejected("acme", ErrorCodes.UnknownSchema, "acme/nope/latest", day.AddHours(4)),
            Rejected("acme", ErrorCodes.InvalidEvent, null, day.AddDays(1).AddTicks(-10)),
            // Outside the range, or another product's: not counted.
            Rejected("acme", ErrorCodes.TimeTooOld, "acme/command/1-0-0", day.AddTicks(-10)),
            Rejected("acme", ErrorCodes.TimeTooOld, "acme/command/1-0-0", day.AddDays(1)),
            Rejected("beta", ErrorCodes.UndeclaredProperty, "beta/command/1-0-0", day.AddHours(1)),
        ], CancellationToken.None);

        var summary = await store.SummarizeQuarantineAsync("acme", day, day.AddDays(1), CancellationToken.None);

        Assert.Equal(5, summary.Total);
        Assert.Equal(
            new QuarantineCount[] { new("undeclared_property", 3), new("invalid_event", 1), new("unknown_schema", 1) },
            summary.ByReason);
        Assert.Equal(
            new QuarantineCount[] { new("acme/command/1-0-0", 2), new("acme/nope/latest", 1), new("acme/sync/1-0-0", 1), new("unknown", 1) },
            summary.BySchema);
        var empty = await store.SummarizeQuarantineAsync("nobody", day, day.AddDays(1), CancellationToken.None);
        Assert.Equal((0, 0, 0), (empty.Total, empty.ByReason.Count, empty.BySchema.Count));
    }

    [Fact]
    public async Task AGroupOfManyBatchesIsCommittedAndEveryEventIsAccountedFor()
    {
        var store = await OpenAsync();
        var records = Enumerable.Range(0, 5000).Select(_ => Record("acme")).ToList();

        var duplicates = await store.WriteAsync(records, [], CancellationToken.None);

        Assert.All(duplicates, Assert.False);
        Assert.Equal(5000, (await store.ReadRecentAsync("acme", 10_000, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task TheStoreKnowsWhetherItHoldsAnyEvent()
    {
        var store = await OpenAsync();
        await store.WriteAsync([], [new QuarantineRecord
        {
            Product = "acme", ReasonCode = ErrorCodes.InvalidEvent, Message = "rejected", ReceivedAt = DateTimeOffset.UtcNow, EventJson = "{}",
        }], CancellationToken.None);

        Assert.False(await store.HasEventsAsync(CancellationToken.None));
        await store.WriteAsync([Record("beta")], [], CancellationToken.None);
        Assert.True(await store.HasEventsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task TheStoreReportsItselfReachable()
    {
        var store = await OpenAsync();

        Assert.True(await store.IsReachableAsync(CancellationToken.None));
    }

    internal static EventRecord Record(string product, Guid? id = null, DateTimeOffset? time = null) => new()
    {
        Product = product,
        Id = id ?? Guid.CreateVersion7(),
        Name = "command",
        SchemaVersion = "1-0-0",
        Time = time ?? DateTimeOffset.UtcNow.AddSeconds(-2),
        ReceivedAt = DateTimeOffset.UtcNow,
        Context = new EventContext
        {
            Product = product,
            ProductVersion = "1.4.0",
            SessionId = Guid.CreateVersion7(),
            InstallId = Guid.NewGuid(),
            OsFamily = "linux",
            Ci = true,
        },
        PropertiesJson = """{"command":"run","exit_code":0,"duration_ms":12}""",
        Country = "GB",
        Region = "ENG",
        IpPseudonym = "0123abcd",
    };
}
