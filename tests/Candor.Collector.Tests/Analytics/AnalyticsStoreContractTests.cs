using Candor.Collector.Analytics;

namespace Candor.Collector.Tests.Analytics;

/// <summary>
/// The analytics answers every store must give on <see cref="AnalyticsSeed"/>. Each expected figure
/// is worked out by hand from the seed's description.
/// </summary>
public abstract class AnalyticsStoreContractTests
{
    protected const int K = 5;

    protected static readonly DateTime Now = DateTime.UtcNow;

    private static readonly AnalyticsQuery All = new(
        "acme", new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero));

    private protected abstract Task<IAnalyticsStore> StoreAsync();

    [Fact]
    public async Task ProductsListsEveryProductWithEvents()
    {
        var store = await StoreAsync();

        Assert.Equal(["acme", "beta"], await store.ProductsAsync(default));
    }

    [Fact]
    public async Task ActiveInstallsPerDayCountDistinctInstalls()
    {
        var store = await StoreAsync();

        var days = await store.ActiveInstallsAsync(All, Interval.Day, default);

        Assert.Equal(
            [("2026-10-01", 6L), ("2026-10-20", 6L), ("2026-11-01", 5L), ("2026-11-02", 1L), ("2026-11-10", 1L)],
            days.Select(p => (p.Period.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), p.Installs)));
    }

    [Theory]
    [InlineData(2026, 10, 1)]   // 51 days: counted with a bitmap of active days per install
    [InlineData(2026, 8, 1)]    // 112 days: longer than a bitmap holds, counted per (day, install)
    [InlineData(2026, 10, 20)]  // a range that starts on an active day mid-way through the data
    public async Task DailyActiveInstallsAreTheSameWhicheverWayTheRangeIsCounted(int year, int month, int day)
    {
        var store = await StoreAsync();
        var from = new DateTimeOffset(year, month, day, 0, 0, 0, TimeSpan.Zero);

        var days = await store.ActiveInstallsAsync(All with { From = from }, Interval.Day, default);

        (string, long)[] all = [("2026-10-01", 6L), ("2026-10-20", 6L), ("2026-11-01", 5L), ("2026-11-02", 1L), ("2026-11-10", 1L)];
        Assert.Equal(
            all.Where(p => string.CompareOrdinal(p.Item1, from.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)) >= 0),
            days.Select(p => (p.Period.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), p.Installs)));
        Assert.All(days, p => Assert.Equal(TimeSpan.Zero, p.Period.Offset));
    }

    [Fact]
    public async Task MonthlyActiveInstallsAreTrueDistinctCountsNotAveragesOfDays()
    {
        var store = await StoreAsync();

        var months = await store.ActiveInstallsAsync(All, Interval.Month, default);

        // October: the six linux installs (active on two days, counted once). November: 5 + 1.
        Assert.Equal([6L, 6L], months.Select(p => p.Installs));
    }

    [Fact]
    public async Task WeeklyActiveInstallsCountEachInstallOncePerWeekStartingOnMonday()
    {
        var store = await StoreAsync();

        var weeks = await store.ActiveInstallsAsync(All, Interval.Week, default);

        // Oct 1 is a Thursday (week of Sep 28), Nov 1 a Sunday (week of Oct 26), Nov 2 a Monday.
        Assert.Equal(
            [("2026-09-28", 6L), ("2026-10-19", 6L), ("2026-10-26", 5L), ("2026-11-02", 1L), ("2026-11-09", 1L)],
            weeks.Select(p => (p.Period.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), p.Installs)));
    }

    [Fact]
    public async Task WeeklyVersionAdoptionFoldsSmallCellsPerWeek()
    {
        var store = await StoreAsync();

        var weeks = await store.VersionAdoptionAsync(All, Interval.Week, K, default);

        Assert.Equal(
            ["2026-09-28:1.0.0:6", "2026-10-19:1.0.0:6", "2026-10-26:2.0.0:5", "2026-11-02:other:1", "2026-11-09:other:1"],
            weeks.Select(p => $"{p.Period:yyyy-MM-dd}:{p.Label}:{p.Installs}"));
    }

    [Fact]
    public async Task NewInstallsAreCountedOnTheDayOfTheirFirstEvent()
    {
        var store = await StoreAsync();

        var days = await store.NewInstallsAsync(All, Interval.Day, default);

        Assert.Equal([6L, 5L, 1L], days.Select(p => p.Installs));
        var november = All with { From = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero) };
        Assert.Equal(6, (await store.SummaryAsync(november, default)).NewInstalls);
        // Installs first seen after the range are not new in it.
        var october = All with { To = november.From };
        Assert.Equal([6L], (await store.NewInstallsAsync(october, Interval.Day, default)).Select(p => p.Installs));
        Assert.Equal(6, (await store.SummaryAsync(october, default)).NewInstalls);
    }

    [Fact]
    public async Task RetentionIsTheShareOfEligibleInstallsStillActiveAfter7And30Days()
    {
        var store = await StoreAsync();

        var retention = await store.RetentionAsync(All, All.To, default);

        Assert.Equal(12, retention.Installs);
        Assert.Equal(12, retention.Eligible7);
        Assert.Equal(7, retention.Retained7);
        Assert.Equal(7.0 / 12, retention.Share7!.Value, 6);
        Assert.Equal(6, retention.Eligible30);
        Assert.Equal(0, retention.Retained30);
    }

    [Fact]
    public async Task FirstAndLastSeenAreReportedPerInstall()
    {
        var store = await StoreAsync();

        var installs = await store.InstallsAsync(All, 100, default);

        Assert.Equal(12, installs.Count);
        var mac = Assert.Single(installs, i => i.InstallId == AnalyticsSeed.Mac);
        Assert.Equal(new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero), mac.FirstSeen);
        Assert.Equal(new DateTimeOffset(2026, 11, 10, 9, 1, 0, TimeSpan.Zero), mac.LastSeen);
        Assert.Equal(3, mac.Events);
    }

    [Theory]
    [InlineData("OsFamily", "linux:6,windows:5,other:1")]
    [InlineData("Version", "1.0.0:6,2.0.0:5,other:1")]
    [InlineData("InitialVersion", "1.0.0:6,1.5.0:5,other:1")]
    [InlineData("Country", "DE:6,US:5,other:1")]
    [InlineData("Region", "DE/BE:6,US/CA:5,other:1")]
    [InlineData("CiName", "none:7,github-actions:5")]
    [InlineData("Architecture", "x64:12")]
    [InlineData("Command", "run:12,new:6,other:1")]
    [InlineData("ErrorCode", "E_TIMEOUT:5,other:1")]
    public async Task BreakdownsFoldGroupsOfFewerThanKInstallsIntoOther(string dimension, string expected)
    {
        var store = await StoreAsync();

        var rows = await store.BreakdownAsync(All, Enum.Parse<Dimension>(dimension), K, default);

        Assert.Equal(expected, string.Join(",", rows.Select(r => $"{r.Label}:{r.Installs}")));
        Assert.All(rows.Where(r => r.Label != "other"), r => Assert.True(r.Installs >= K));
    }

    [Fact]
    public async Task EventUsageCountsEventsAndUniqueInstalls()
    {
        var store = await StoreAsync();

        var rows = await store.BreakdownAsync(All, Dimension.EventName, K, default);

        // command: 6*3 + 5 + 3 = 26 events by 12 installs; operation: 6 by 6. Heartbeats are
        // today's, outside the range.
        Assert.Equal("command:26:12,operation:6:6", string.Join(",", rows.Select(r => $"{r.Label}:{r.Events}:{r.Installs}")));
    }

    [Fact]
    public async Task CommandsReportRunsFailureRateAndDurationPercentiles()
    {
        var store = await StoreAsync();

        var rows = await store.CommandsAsync(All, K, default);

        var run = Assert.Single(rows, r => r.Command == "run");
        Assert.Equal((19L, 12L, 0L), (run.Runs, run.Installs, run.Failures));
        Assert.Equal(100, run.P50Ms);
        var @new = Assert.Single(rows, r => r.Command == "new");
        Assert.Equal((6L, 2L), (@new.Runs, @new.Failures));
        Assert.Equal(1.0 / 3, @new.FailureRate, 6);
        Assert.Equal(300, @new.P95Ms);
        // The folded row's percentiles come from its own runs: secret-cmd's one run of 50 ms.
        var other = Assert.Single(rows, r => r.Command == "other");
        Assert.Equal((1L, 50.0, 50.0), (other.Runs, other.P50Ms, other.P95Ms));
        Assert.DoesNotContain(rows, r => r.Command == "secret-cmd");
    }

    [Fact]
    public async Task OperationsRecordedByStartOperationAreNamedAfterTheirEvent()
    {
        var store = await StoreAsync();

        // beta's eight installs each ran "sync" once (10, 20, ... 80 ms); the first three failed.
        var sync = Assert.Single(await store.OperationsAsync(All with { Product = "beta" }, K, default));

        Assert.Equal(("sync", 8L, 8L, 3L), (sync.Command, sync.Runs, sync.Installs, sync.Failures));
        // percentile_cont: rank 0.5·7 = 3.5 lies between 40 and 50; rank 0.95·7 = 6.65 between 70 and 80.
        Assert.Equal(45, sync.P50Ms!.Value, 6);
        Assert.Equal(76.5, sync.P95Ms!.Value, 6);
    }

    [Fact]
    public async Task OperationsReportOutcomes()
    {
        var store = await StoreAsync();

        var load = Assert.Single(await store.OperationsAsync(All, K, default));

        Assert.Equal(("load", 6L, 6L, 1.0), (load.Command, load.Runs, load.Failures, load.FailureRate));
    }

    [Fact]
    public async Task VersionAdoptionFoldsSmallCellsPerPeriod()
    {
        var store = await StoreAsync();

        var weeks = await store.VersionAdoptionAsync(All, Interval.Month, K, default);

        Assert.Equal(
            ["2026-10:1.0.0:6", "2026-11:2.0.0:5", "2026-11:other:1"],
            weeks.Select(p => $"{p.Period:yyyy-MM}:{p.Label}:{p.Installs}"));
    }

    [Fact]
    public async Task NumericPropertiesAreSummedAndSummarised()
    {
        var store = await StoreAsync();

        var duration = await store.NumericAsync(All, "command", "duration_ms", default);

        Assert.Equal(26, duration.Count);
        Assert.Equal(19 * 100 + 6 * 300 + 50, duration.Sum);
        Assert.Equal(50, duration.Min);
        Assert.Equal(300, duration.Max);
        Assert.Equal(100, duration.P50);
    }

    [Fact]
    public async Task LiveInstancesCountOnlyRecentHeartbeats()
    {
        var store = await StoreAsync();

        var live = await store.LiveAsync("acme", new DateTimeOffset(Now.AddMinutes(-15)), K, default);

        Assert.Equal(5, live.Instances);
        Assert.Equal("2.0.0:5", string.Join(",", live.ByVersion.Select(r => $"{r.Label}:{r.Installs}")));
        Assert.Equal("US:5", string.Join(",", live.ByCountry.Select(r => $"{r.Label}:{r.Installs}")));
    }

    [Theory]
    [InlineData("2.0.0", null, null, null, null, 5)]
    [InlineData(null, "linux", null, null, null, 6)]
    [InlineData(null, null, true, null, null, 5)]
    [InlineData(null, null, false, null, null, 7)]
    [InlineData(null, null, null, "FR", null, 1)]
    [InlineData(null, null, null, null, "new", 6)]
    [InlineData("2.0.0", "linux", null, null, null, 0)]
    public async Task FiltersNarrowEveryFigure(string? version, string? os, bool? ci, string? country, string? command, long installs)
    {
        var store = await StoreAsync();
        var query = All with { Version = version, Os = os, Ci = ci, Country = country, Command = command };

        var summary = await store.SummaryAsync(query, default);

        Assert.Equal(installs, summary.Installs);
        Assert.Equal(installs, (await store.InstallsAsync(query, 100, default)).Count);
    }

    [Fact]
    public async Task TheDateRangeExcludesEventsOutsideIt()
    {
        var store = await StoreAsync();
        var october = All with { To = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero) };

        var summary = await store.SummaryAsync(october, default);

        Assert.Equal(6, summary.Installs);
        Assert.Equal(6 * 4, summary.Events);
        Assert.Equal(2.0 / 18, summary.FailureRate, 6);
    }
}
