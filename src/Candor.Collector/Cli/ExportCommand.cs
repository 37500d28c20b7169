using System.CommandLine;
using System.Globalization;
using Candor.Collector.Storage;

namespace Candor.Collector.Cli;

/// <summary><c>candor export</c>: a date range of stored events to a Parquet or CSV file, written by
/// the engine (DuckDB's COPY), with progress on stderr for long exports.</summary>
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
            var export = new EventExport(target.FullName, parseResult.GetValue(format) == "parquet",
                parseResult.GetValue(product), parseResult.GetValue(from), parseResult.GetValue(to));
            try
            {
                var rows = await OfflineStorage.ExportDuckDbFileAsync(path, export, percentage => error.WriteLine($"  {percentage}%"), cancellationToken);
                error.WriteLine($"Exported {rows.ToString("N0", CultureInfo.InvariantCulture)} events to {target.FullName}");
                return 0;
            }
            catch (ExportFailedException ex)
            {
                error.WriteLine($"Export failed: {ex.Message}");
                return 1;
            }
        });
        return command;
    }
}
