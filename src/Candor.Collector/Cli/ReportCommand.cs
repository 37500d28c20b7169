using System.CommandLine;
using Candor.Collector.Analytics;
using Candor.Collector.Storage;
using DuckDB.NET.Data;
using Npgsql;

namespace Candor.Collector.Cli;

/// <summary><c>candor report</c>: the key figures of a date range as tables in the terminal.</summary>
internal static class ReportCommand
{
    public static Command Build(Option<string?> database)
    {
        var product = new Option<string?>("--product", "-p") { Description = "The product to report on. Default: every product." };
        var from = new Option<DateOnly?>("--from") { Description = "First day (UTC), e.g. 2026-11-01. Default: 29 days before --to." };
        var to = new Option<DateOnly?>("--to") { Description = "Last day (UTC), inclusive. Default: today." };
        var connectionString = new Option<string?>("--connection-string")
        {
            Description = "Report from PostgreSQL (an Npgsql connection string). Default: the collector's Candor:ConnectionString when its Candor:Storage is postgres and no --database is given.",
        };
        var command = new Command("report", "Print the key figures (installs, retention, commands, versions, platforms, errors, services) as tables.")
        {
            product, from, to, database, connectionString,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var toDay = parseResult.GetValue(to) ?? DateOnly.FromDateTime(DateTime.UtcNow);
            var fromDay = parseResult.GetValue(from) ?? toDay.AddDays(-29);
            if (fromDay > toDay)
            {
                error.WriteLine("--from must not be after --to.");
                return 2;
            }

            var (collector, analytics) = StoreLocation.Configuration();
            var postgres = parseResult.GetValue(connectionString)
                ?? (parseResult.GetValue(database) is null && collector.IsPostgres ? collector.ConnectionString : null);
            string? path = null;
            if (postgres is null && (path = StoreLocation.Resolve(parseResult.GetValue(database), error)) is null)
            {
                return 2;
            }

            try
            {
                // PostgreSQL serves many readers, so the report can run next to live collectors;
                // a DuckDB file belongs to one process at a time. Opened as the collector opens it
                // first, so a file from an older collector gets what the analytics read (install numbers).
                using var store = await OfflineStorage.OpenAnalyticsAsync(postgres, path, cancellationToken);
                var products = parseResult.GetValue(product) is { } one ? [one] : await store.ProductsAsync(cancellationToken);
                foreach (var name in products)
                {
                    var query = new AnalyticsQuery(name,
                        new DateTimeOffset(fromDay.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
                        new DateTimeOffset(toDay.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));
                    await WriteAsync(output, store, query, analytics.MinimumGroupSize, cancellationToken);
                }

                if (products.Count == 0)
                {
                    output.WriteLine("No events stored yet.");
                }

                return 0;
            }
            catch (DuckDBException ex)
            {
                error.WriteLine($"Could not read '{path}': {ex.Message.Split('\n')[0]}");
                error.WriteLine("A running collector holds the database: stop it first, or use the dashboard or the analytics API.");
                return 1;
            }
            catch (NpgsqlException ex)
            {
                error.WriteLine($"Could not read from PostgreSQL: {ex.Message.Split('\n')[0]}");
                return 1;
            }
        });
        return command;
    }

    private static async Task WriteAsync(TextWriter output, IAnalyticsStore store, AnalyticsQuery query, int k, CancellationToken ct)
    {
        var summary = await store.SummaryAsync(query, ct);
        var asOf = query.To < DateTimeOffset.UtcNow ? query.To : DateTimeOffset.UtcNow;
        var retention = await store.RetentionAsync(query, asOf, ct);
        var live = await store.LiveAsync(query.Product, DateTimeOffset.UtcNow.AddMinutes(-15), k, ct);

        output.WriteLine($"== {query.Product}: {query.From:yyyy-MM-dd} to {query.To.AddDays(-1):yyyy-MM-dd} (groups under {k} installs shown as \"other\") ==");
        output.WriteLine();
        TerminalTable.Write(output, "Key figures", ["Figure", "Value"],
        [
            ["Active installs", summary.Installs],
            ["New installs", summary.NewInstalls],
            ["Events", summary.Events],
            ["Command runs", summary.CommandRuns],
            ["Command failure rate", TerminalTable.Percent(summary.FailureRate)],
            ["Still active after 7 days", TerminalTable.Percent(retention.Share7)],
            ["Still active after 30 days", TerminalTable.Percent(retention.Share30)],
            ["Live instances (15 min)", live.Instances],
        ]);

        var weeks = await store.ActiveInstallsAsync(query, Interval.Week, ct);
        TerminalTable.Write(output, "Active installs per week", ["Week of", "Installs"], weeks.Select(w => (IReadOnlyList<object?>)[w.Period, w.Installs]));

        var commands = await store.CommandsAsync(query, k, ct);
        TerminalTable.Write(output, "Commands", ["Command", "Runs", "Installs", "Failure rate", "p50 ms", "p95 ms"],
            commands.Select(c => (IReadOnlyList<object?>)[c.Command, c.Runs, c.Installs, TerminalTable.Percent(c.FailureRate), c.P50Ms, c.P95Ms]));

        foreach (var (title, dimension) in new[]
        {
            ("Versions", Dimension.Version), ("Operating systems", Dimension.OsFamily), ("CI", Dimension.CiName),
            ("Countries", Dimension.Country), ("Error codes", Dimension.ErrorCode),
        })
        {
            var rows = await store.BreakdownAsync(query, dimension, k, ct);
            TerminalTable.Write(output, title, ["Value", "Installs", "Events"], rows.Select(r => (IReadOnlyList<object?>)[r.Label, r.Installs, r.Events]));
        }

        await ServicesReport.WriteAsync(output, store, query, k, ct);
    }
}
