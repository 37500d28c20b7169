using Candor.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Candor.AspNetCore.Tests;

/// <summary>However many routes, clients or errors a service sees, an interval records a bounded number
/// of keys, and every request is still counted.</summary>
public sealed class CardinalityTests
{
    private static RouteEndpoint Endpoint(string template) =>
        new(_ => Task.CompletedTask, RoutePatternFactory.Parse(template), 0, EndpointMetadataCollection.Empty, template);

    [Fact]
    public void RoutesBeyondTheCapAreCountedAsOther()
    {
        var requests = new RequestAggregator(maxRoutes: 10);
        for (var i = 0; i < 25; i++)
        {
            requests.SlotFor(Endpoint($"/generated/{i}")).Record(0, 200, 1, failed: false);
        }

        var totals = new List<RequestTotals>();
        requests.Drain(totals.Add);

        Assert.Equal(11, totals.Count);
        Assert.Equal(15, totals.Single(t => t.Route == "(other)").Count);
        Assert.Equal(25, totals.Sum(t => t.Count));
    }

    [Fact]
    public void RoutesIdleForAWholeIntervalGiveTheirPlaceBack()
    {
        var requests = new RequestAggregator(maxRoutes: 2);
        var first = Endpoint("/a");
        var second = Endpoint("/b");
        requests.SlotFor(first).Record(0, 200, 1, false);
        requests.SlotFor(second).Record(0, 200, 1, false);
        requests.Drain(_ => { });
        requests.Drain(_ => { }); // both idle: both removed

        var totals = new List<RequestTotals>();
        requests.SlotFor(Endpoint("/c")).Record(0, 200, 1, false);
        requests.SlotFor(Endpoint("/d")).Record(0, 200, 1, false);
        requests.Drain(totals.Add);

        Assert.Equal(["/c", "/d"], totals.Select(t => t.Route).Order());
    }

    [Fact]
    public void EndpointsSharingATemplateAreOneAggregateAndControllerTemplatesGetALeadingSlash()
    {
        var requests = new RequestAggregator();
        requests.SlotFor(Endpoint("api/items/{id}")).Record(0, 200, 1, false);
        requests.SlotFor(Endpoint("api/items/{id}")).Record(0, 204, 1, false);
        requests.SlotFor(new Endpoint(_ => Task.CompletedTask, null, "/not/a/route/s3cr3t")).Record(0, 200, 1, false);

        var totals = new List<RequestTotals>();
        requests.Drain(totals.Add);

        Assert.Equal(2, totals.Single(t => t.Route == "/api/items/{id}").Count);
        Assert.Equal(1, totals.Single(t => t.Route == "(other)").Count);
    }

    [Fact]
    public void MethodsOutsideTheStandardSetAreCountedAsOther()
    {
        Assert.Equal("GET", HttpMethodNames.Names[HttpMethodNames.IndexOf("get")]);
        Assert.Equal("PATCH", HttpMethodNames.Names[HttpMethodNames.IndexOf("PATCH")]);
        Assert.Equal("OTHER", HttpMethodNames.Names[HttpMethodNames.IndexOf("PROPFIND")]);
        Assert.Equal("OTHER", HttpMethodNames.Names[HttpMethodNames.IndexOf("S3CR3T")]);
    }

    [Fact]
    public void ClientsBeyondTheCapAreCountedAsOther()
    {
        var clients = new ClientAggregator(maxKeys: 5);
        clients.Record("other/1", "en"); // not "other": a product named other
        for (var i = 0; i < 20; i++)
        {
            clients.Record($"tool{i}/1.0", "en");
        }

        var totals = new List<(string Client, string Language, long Count)>();
        clients.Drain((client, language, count) => totals.Add((client, language, count)));

        Assert.True(totals.Count <= 6, string.Join(", ", totals));
        Assert.Equal(21, totals.Sum(t => t.Count));
        Assert.Contains(totals, t => t.Client == "other");
    }

    [Fact]
    public void ARouteIdleForAnIntervalIsCountedAgainWhenItComesBack()
    {
        var requests = new RequestAggregator();
        var endpoint = Endpoint("/a");
        var counts = new List<long>();
        requests.SlotFor(endpoint).Record(0, 200, 1, false);
        requests.Drain(t => counts.Add(t.Count));
        requests.Drain(t => counts.Add(t.Count)); // idle: its slot is retired
        requests.Drain(t => counts.Add(t.Count)); // and then dropped
        requests.SlotFor(endpoint).Record(0, 200, 1, false); // the same endpoint: the thread's last slot must not be reused
        requests.SlotFor(endpoint).Record(0, 200, 1, false);
        requests.Drain(t => counts.Add(t.Count));

        Assert.Equal([1L, 2L], counts);
    }

    [Fact]
    public void APairIdleForAnIntervalIsCountedAgainWhenItComesBack()
    {
        var clients = new ClientAggregator();
        const string userAgent = "curl/8.5.0";
        const string language = "en";
        var counts = new List<long>();
        clients.Record(userAgent, language);
        clients.Drain((_, _, count) => counts.Add(count));
        clients.Drain((_, _, count) => counts.Add(count)); // idle: its counter is retired
        clients.Record(userAgent, language); // the same strings: the thread's last pair must not be reused
        clients.Record(userAgent, language);
        clients.Drain((_, _, count) => counts.Add(count));

        Assert.Equal([1L, 2L], counts);
    }

    [Fact]
    public void ErrorsBeyondTheCapAreCountedUnderOneKeyPerStatus()
    {
        var errors = new ErrorAggregator(maxKeys: 3);
        for (var i = 0; i < 10; i++)
        {
            errors.Record("/r", "GET", 500, null, $"code_{i}");
        }

        var totals = new List<(ErrorKey Key, long Count)>();
        errors.Drain((key, count) => totals.Add((key, count)));

        Assert.Equal(4, totals.Count);
        Assert.Equal(10, totals.Sum(t => t.Count));
        Assert.Equal(7, totals.Single(t => t.Key.ErrorCode == "other").Count);
    }

    [Fact]
    public void AKnownClientAndLanguageAllocateNothing()
    {
        var clients = new ClientAggregator();
        var requests = new RequestAggregator();
        var endpoint = Endpoint("/items/{id}");
        var userAgent = new Microsoft.Extensions.Primitives.StringValues("curl/8.5.0");
        var language = new Microsoft.Extensions.Primitives.StringValues("en-US,en;q=0.9");
        clients.Record(userAgent, language);
        requests.SlotFor(endpoint).Record(0, 200, 5, false);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            clients.Record(userAgent, language);
            requests.SlotFor(endpoint).Record(HttpMethodNames.IndexOf(HttpMethods.Get), 200, 5, false);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void TheHistogramBucketsAreNonCumulative()
    {
        var frequency = System.Diagnostics.Stopwatch.Frequency;
        var requests = new RequestAggregator();
        var slot = requests.SlotFor(Endpoint("/t"));
        slot.Record(0, 200, frequency / 2000, false); // 0.5 ms
        slot.Record(0, 200, frequency / 1000, false); // 1 ms: still the first bucket
        slot.Record(0, 200, frequency * 3 / 1000, false); // 3 ms
        slot.Record(0, 200, frequency * 20, false); // 20 s

        var total = Assert.Single(CollectTotals(requests));
        var buckets = EventConventions.DurationBuckets;
        Assert.Equal(2, total.Buckets[0]);
        Assert.Equal(1, total.Buckets[buckets.ToList().IndexOf(5)]);
        Assert.Equal(1, total.Buckets[buckets.Count]);
        Assert.Equal(4, total.Buckets.Sum());
        Assert.InRange(total.DurationSumMs, 20_003, 20_005);
    }

    private static List<RequestTotals> CollectTotals(RequestAggregator requests)
    {
        var totals = new List<RequestTotals>();
        requests.Drain(totals.Add);
        return totals;
    }
}
