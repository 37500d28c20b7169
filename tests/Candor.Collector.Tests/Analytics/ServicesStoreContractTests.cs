using Candor.Collector.Analytics;

namespace Candor.Collector.Tests.Analytics;

/// <summary>
/// The "Services" answers every store must give on <see cref="ServicesSeed"/>, with k = 3. Each
/// expected figure is worked out by hand from the seed's description.
/// </summary>
public abstract class ServicesStoreContractTests
{
    protected const int K = 3;

    protected static readonly DateTime End = new(2026, 11, 2, 12, 0, 0, DateTimeKind.Utc);

    private static readonly AnalyticsQuery All = new(ServicesSeed.Product, new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(End));

    private protected abstract Task<IAnalyticsStore> StoreAsync();

    [Fact]
    public async Task InstancesAreLiveWhenTheirLatestBeatIsWithinTwoIntervalsOfTheEndAndNoShutdownFollowed()
    {
        var store = await StoreAsync();

        var overview = await store.ServicesAsync(All, K, default);

        // A1 (10 min ago, interval 1 h) and B2 (1 h 30 ago, interval 1 h); not B1 or D1 (shut down), nor C1 (5 h ago, interval 15 min).
        Assert.Equal((2L, 5L, 4L), (overview.Instances.Live, overview.Instances.Started, overview.Instances.Installs));
        Assert.Equal(30, overview.Events);
    }

    [Fact]
    public async Task LiveInstancesAreJudgedAtTheEndOfTheRange()
    {
        var store = await StoreAsync();

        // 3 h 45 before the end: B1 beat 15 min earlier and had not shut down yet; C1 had been silent for 1 h 45.
        var earlier = await store.ServicesAsync(All with { To = new DateTimeOffset(End.AddMinutes(-225)) }, K, default);

        Assert.Equal((1L, 2L), (earlier.Instances.Live, earlier.Instances.Started));
    }

    [Fact]
    public async Task StartupTimesAndUptimeArePercentilesOverInstances()
    {
        var store = await StoreAsync();

        var instances = (await store.ServicesAsync(All, K, default)).Instances;

        // Startups 600, 800, 1000, 1200, 5000: p50 1000; p95 at rank 3.8, 1200 + 0.8 × 3800.
        Assert.Equal(1000, instances.StartupP50Ms!.Value, 6);
        Assert.Equal(4240, instances.StartupP95Ms!.Value, 6);
        // Latest uptimes 3600, 3600, 5400, 5400, 10200.
        Assert.Equal(5400, instances.UptimeP50Seconds!.Value, 6);
    }

    [Fact]
    public async Task RoutesSumTheirIntervalsAndReadPercentilesFromTheSummedBuckets()
    {
        var store = await StoreAsync();

        var routes = (await store.ServicesAsync(All, K, default)).Routes;

        // /health (A, B) and /secret (D) fold into "other": 105 requests, 5 errors, from 3 installs.
        Assert.Equal(
            ["other||105|5|3|1|1", "/items/{id}|GET|20|2|3|5|100", "/import|POST|8|4|3|1000|>10000"],
            routes.Select(r => $"{r.Route}|{r.Method}|{r.Requests}|{r.Errors}|{r.Installs}|{r.P50Ms}|{r.P95Ms}"));
        Assert.Equal(0.1, routes[1].ErrorRate, 6);
        Assert.Equal(0.5, routes[2].ErrorRate, 6);
        Assert.DoesNotContain(routes, r => r.Route is "/secret" or "/health" or "/leak");
    }

    [Fact]
    public async Task ErrorCodesClientsAndLanguagesFoldGroupsOfFewerThanKInstalls()
    {
        var store = await StoreAsync();

        var overview = await store.ServicesAsync(All, K, default);

        Assert.Equal(["other||7|3", "import_too_large|413|4|3"], overview.HttpErrors.Select(r => $"{r.ErrorCode}|{r.Status}|{r.Requests}|{r.Installs}"));
        Assert.Equal(["E_DB:3:3", "other:1:1"], Rows(overview.Errors));
        Assert.Equal(["curl/8:15:3", "chrome:6:3", "other:4:1"], Rows(overview.Clients));
        Assert.Equal(["en:15:3", "de:6:3", "other:4:1"], Rows(overview.Languages));
        // One "stopped" (B) and one "failed" (D): each from one install, so only their sum shows.
        Assert.Equal(["other:2:2"], Rows(overview.ShutdownReasons));
    }

    [Fact]
    public async Task WithALargerKNothingDescribesFewerInstalls()
    {
        var store = await StoreAsync();

        var overview = await store.ServicesAsync(All, 5, default);

        Assert.Equal(["other||133|11|4|1|1000"], overview.Routes.Select(r => $"{r.Route}|{r.Method}|{r.Requests}|{r.Errors}|{r.Installs}|{r.P50Ms}|{r.P95Ms}"));
        Assert.Equal(["other:25:4"], Rows(overview.Clients));
        // Four installs are behind the startups and uptimes: fewer than k, so no percentile is shown.
        Assert.Equal((2L, 5L), (overview.Instances.Live, overview.Instances.Started));
        Assert.Null(overview.Instances.StartupP50Ms);
        Assert.Null(overview.Instances.UptimeP50Seconds);
    }

    [Fact]
    public async Task CloudsAndPlatformsCountInstancesOnceTheStoreKeepsTheCloudContext()
    {
        var store = await StoreAsync();

        var overview = await store.ServicesAsync(All, K, default);

        // A1, B1, B2 on aws/eu-west-1 (2 installs: folded with D1's "none"), C1 on azure (1 install).
        Assert.Equal(["other:5:4"], Rows(overview.Clouds));
        Assert.Equal(["other:5:4"], Rows(overview.Platforms));
        var lenient = await store.ServicesAsync(All, 2, default);
        Assert.Equal(["aws/eu-west-1:3:2", "other:2:2"], Rows(lenient.Clouds));
    }

    [Fact]
    public async Task AProductWithoutServiceEventsHasAnEmptyView()
    {
        var store = await StoreAsync();

        var overview = await store.ServicesAsync(All with { Product = "nothing-here" }, K, default);

        Assert.Equal(0, overview.Events);
        Assert.Equal((0L, 0L), (overview.Instances.Live, overview.Instances.Started));
        Assert.Empty(overview.Routes);
        Assert.Null(overview.Instances.StartupP50Ms);
    }

    private static IEnumerable<string> Rows(IEnumerable<ServiceGroupRow> rows) => rows.Select(r => $"{r.Label}:{r.Count}:{r.Installs}");
}
