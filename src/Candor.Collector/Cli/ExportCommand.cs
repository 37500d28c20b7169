using System.CommandLine;
using System.Globalization;
using Candor.Collector.Storage;
using DuckDB.NET.Data;

namespace Candor.Collector.Cli;

/// <summary><c>candor export</c>: a date range of stored events to a Parquet or CSV file, written by
/// DuckDB's COPY, with progress on stderr for long exports.</summary>
internal static class ExportCommand
{
    public static Command Build(Option<string?> database)
    {
        var format = new Option<string>("--format", "-f") { Description = "parquet or csv.", DefaultValueFactory = _ => "parquet" };
        format.AcceptOnlyFromAmong("parquet", "csv");
        var output = new Option<FileInfo>("--output", "-o") { Description = "The file to write.", Required = true };
        var product = new Option<string?>("--product", "-p") { Description = "Only this product. Default: every product." };
        var from = new Option<DateOnly?>("--from") { Description = "First day (UTC). Default: the first event." };
        var to = new Option<DateOnly?>("--to") { Description = "Last day (UTC), inclusive. Default: the last event." };
        var command = new Command("export", "Export stored events to Parquet or CSV.") { format, output, product, from, to, database };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            if (StoreLocation.Resolve(parseResult.GetValue(database), error) is not { } path)
            {
                return 2;
            }

            var target = parseResult.GetValue(output)!;
            Directory.CreateDirectory(target.DirectoryName ?? ".");
            var isParquet = parseResult.GetValue(format) == "parquet";
            try
            {
                // A collector that crashed may have left acknowledged events in its ingest journal:
                // they are stored first, as its next start would, so none is missing.
                await OfflineStorage.CompleteDuckDbFileAsync(path, cancellationToken);

                using var connection = new DuckDBConnection($"Data Source={path};ACCESS_MODE=READ_ONLY");
                await connection.OpenAsync(cancellationToken);
                using var copy = connection.CreateCommand();
                // The format is one of two constants; every value, the path included, is a parameter.
                // Every column but the install number, the collector's internal key (absent from
                // files of older collectors, hence a filter rather than EXCLUDE).
                copy.CommandText = $"""
                    COPY (
                        SELECT COLUMNS(c -> c <> 'install_seq') FROM events
                        WHERE ($product IS NULL OR product = $product)
                          AND ($from IS NULL OR event_time >= $from)
                          AND ($to IS NULL OR event_time < $to)
                        ORDER BY event_time
                    ) TO $path ({(isParquet ? "FORMAT PARQUET, COMPRESSION ZSTD" : "FORMAT CSV, HEADER")})
                    """;
                copy.Parameters.Add(new DuckDBParameter("product", (object?)parseResult.GetValue(product) ?? DBNull.Value));
                copy.Parameters.Add(new DuckDBParameter("from", parseResult.GetValue(from) is { } f ? f.ToDateTime(TimeOnly.MinValue) : DBNull.Value));
                copy.Parameters.Add(new DuckDBParameter("to", parseResult.GetValue(to) is { } t ? t.AddDays(1).ToDateTime(TimeOnly.MinValue) : DBNull.Value));
                copy.Parameters.Add(new DuckDBParameter("path", target.FullName));

                using var done = new CancellationTokenSource();
                var progress = ReportProgressAsync(connection, error, done.Token);
                var rows = await copy.ExecuteNonQueryAsync(cancellationToken);
                await done.CancelAsync();
                await progress;
                error.WriteLine($"Exported {rows.ToString("N0", CultureInfo.InvariantCulture)} events to {target.FullName}");
                return 0;
            }
            catch (DuckDBException ex)
            {
                error.WriteLine($"Export failed: {ex.Message.Split('\n')[0]}");
                return 1;
            }
        });
        return command;
    }

    private static async Task ReportProgressAsync(DuckDBConnection connection, TextWriter error, CancellationToken done)
    {
        var last = -1;
        try
        {
            while (!done.IsCancellationRequested)
            {
                await Task.Delay(500, done);
                var percentage = (int)connection.GetQueryProgress().Percentage;
                if (percentage > last && percentage >= 0)
                {
                    error.WriteLine($"  {percentage}%");
                    last = percentage;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
