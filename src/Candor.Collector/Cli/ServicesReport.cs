using Candor.Collector.Analytics;

namespace Candor.Collector.Cli;

/// <summary>The Services section of <c>candor report</c>, printed when the product sent service events.</summary>
internal static class ServicesReport
{
    public static async Task WriteAsync(TextWriter output, IAnalyticsStore store, AnalyticsQuery query, int k, CancellationToken ct)
    {
        // Live instances are judged at the end of the range: no later than now.
        var now = DateTimeOffset.UtcNow;
        var services = await store.ServicesAsync(query.To > now ? query with { To = now } : query, k, ct);
        if (services.Events == 0)
        {
            return;
        }

        var instances = services.Instances;
        TerminalTable.Write(output, "Services", ["Figure", "Value"],
        [
            ["Live instances", instances.Live],
            ["Instances started", instances.Started],
            ["Installs", instances.Installs],
            ["Startup p50 ms", instances.StartupP50Ms],
            ["Startup p95 ms", instances.StartupP95Ms],
            ["Uptime p50 s", instances.UptimeP50Seconds],
        ]);
        TerminalTable.Write(output, "Routes", ["Route", "Method", "Requests", "Error rate", "p50 ms", "p95 ms"],
            services.Routes.Select(r => (IReadOnlyList<object?>)[r.Route, r.Method, r.Requests, TerminalTable.Percent(r.ErrorRate), r.P50Ms, r.P95Ms]));
        TerminalTable.Write(output, "Request errors", ["Error code", "Status", "Requests", "Installs"],
            services.HttpErrors.Select(r => (IReadOnlyList<object?>)[r.ErrorCode, r.Status, r.Requests, r.Installs]));
        foreach (var (title, header, rows) in new[]
        {
            ("Service errors", "Error code", services.Errors), ("Client kinds", "Client", services.Clients),
            ("Languages", "Language", services.Languages), ("Clouds and regions", "Cloud/region", services.Clouds),
            ("Platforms", "Platform", services.Platforms), ("Shutdown reasons", "Reason", services.ShutdownReasons),
        })
        {
            TerminalTable.Write(output, title, [header, "Count", "Installs"], rows.Select(r => (IReadOnlyList<object?>)[r.Label, r.Count, r.Installs]));
        }
    }
}
