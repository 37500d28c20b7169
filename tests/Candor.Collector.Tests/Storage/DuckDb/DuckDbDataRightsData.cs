using System.Text.Json;
using Candor.Collector.Analytics;
using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;
using Candor.Protocol;

namespace Candor.Collector.Tests.Storage.DuckDb;

/// <summary>Events, quarantined events and analytics answers for the DuckDB data-rights tests.</summary>
internal static class DuckDbDataRightsData
{
    private static readonly string[] Countries = ["GB", "FR", "DE"];
    private static readonly string[] Systems = ["linux", "windows", "macos"];
    private static readonly string[] Versions = ["1.0.0", "1.1.0"];

    /// <summary>A fixed midnight the tests count days from, a little in the past so every event is.</summary>
    public static DateTimeOffset Today { get; } = new(DateTimeOffset.UtcNow.UtcDateTime.Date.AddDays(-1), TimeSpan.Zero);

    /// <summary>An event of <paramref name="install"/>, <paramref name="daysAgo"/> days before <see cref="Today"/>;
    /// its country, OS, version and command vary with <paramref name="n"/>, so the breakdowns have several rows.</summary>
    public static EventRecord Event(Guid? install, double daysAgo, int n = 0, string product = "acme") => new()
    {
        Product = product,
        Id = Guid.CreateVersion7(),
        Name = "command",
        SchemaVersion = "1-0-0",
        Time = Today.AddDays(-daysAgo).AddMinutes(n),
        ReceivedAt = Today.AddDays(-daysAgo).AddMinutes(n + 1),
        Context = new EventContext
        {
            Product = product,
            ProductVersion = Versions[n % Versions.Length],
            SessionId = Guid.CreateVersion7(),
            InstallId = install,
            OsFamily = Systems[n % Systems.Length],
            Ci = n % 2 == 0,
        },
        PropertiesJson = $$"""{"command":"{{(n % 2 == 0 ? "build" : "test")}}","exit_code":0,"duration_ms":{{10 + n}}}""",
        Country = Countries[n % Countries.Length],
        Analytics = new AnalyticsFields(n % 2 == 0 ? "build" : "test", 10 + n, n % 5 == 0, n % 5 == 0 ? "boom" : null),
    };

    /// <summary>A quarantined event of a batch of <paramref name="install"/>, received <paramref name="daysAgo"/> days before <see cref="Today"/>.</summary>
    public static QuarantineRecord Quarantined(Guid? install, double daysAgo = 0, string product = "acme") => new()
    {
        Product = product,
        EventId = Guid.CreateVersion7(),
        InstallId = install,
        ReasonCode = "unknown_schema",
        Message = "No such event.",
        SchemaRef = product + "/nope/1-0-0",
        ReceivedAt = Today.AddDays(-daysAgo).AddHours(1),
        EventJson = """{"name":"nope"}""",
    };

    /// <summary>Opens a store on <paramref name="path"/>.</summary>
    public static async Task<DuckDbEventStore> OpenAsync(string path)
    {
        var store = new DuckDbEventStore(path);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    /// <summary>Every analytics answer for <paramref name="product"/> over the 120 days before tomorrow, unfiltered and
    /// filtered, as one JSON text: two files whose answers agree give the same text.</summary>
    public static async Task<string> AnswersAsync(IAnalyticsStore analytics, string product = "acme")
    {
        var none = CancellationToken.None;
        var (from, to) = (Today.AddDays(-120), Today.AddDays(2));
        var answers = new List<object>();
        foreach (var query in new[] { new AnalyticsQuery(product, from, to), new AnalyticsQuery(product, from, to, Os: "linux"), new AnalyticsQuery(product, Today.AddDays(-20), to) })
        {
            answers.Add(await analytics.SummaryAsync(query, none));
            answers.Add(await analytics.ActiveInstallsAsync(query, Interval.Day, none));
            answers.Add(await analytics.ActiveInstallsAsync(query, Interval.Week, none));
            answers.Add(await analytics.NewInstallsAsync(query, Interval.Day, none));
            answers.Add(await analytics.RetentionAsync(query, Today.AddDays(1), none));
            answers.Add(await analytics.InstallsAsync(query, 100, none));
            answers.Add(await analytics.CommandsAsync(query, 1, none));
            answers.Add(await analytics.VersionAdoptionAsync(query, Interval.Week, 1, none));
            foreach (var dimension in new[] { Dimension.Country, Dimension.OsFamily, Dimension.Version, Dimension.Command })
            {
                answers.Add(await analytics.BreakdownAsync(query, dimension, 1, none));
            }
        }

        return JsonSerializer.Serialize(answers);
    }
}
