using DuckDB.NET.Data;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>Events of a DuckDB file to Parquet or CSV, written by DuckDB's own COPY (vectorized,
/// streaming), with the query's progress reported while it runs.</summary>
internal static class DuckDbExport
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Writes the export and returns how many events it holds. A journal a crashed collector
    /// left is applied first, so no acknowledged event is missing.</summary>
    /// <exception cref="ExportFailedException">DuckDB refused (e.g. the target cannot be written).</exception>
    public static async Task<long> WriteAsync(string databasePath, EventExport export, Action<int> progress, CancellationToken cancellationToken)
    {
        try
        {
            await DuckDbStorage.PrepareOfflineAsync(databasePath, upgrade: false, cancellationToken);
            using var connection = new DuckDBConnection($"Data Source={databasePath};ACCESS_MODE=READ_ONLY");
            await connection.OpenAsync(cancellationToken);
            using var copy = connection.CreateCommand();
            // The format is one of two constants; every value, the path included, is a parameter.
            // Every column but the install number, the collector's internal key (absent from files of
            // older collectors, hence a filter rather than EXCLUDE).
            copy.CommandText = $"""
                COPY (
                    SELECT COLUMNS(c -> c <> 'install_seq') FROM events
                    WHERE ($product IS NULL OR product = $product)
                      AND ($from IS NULL OR event_time >= $from)
                      AND ($to IS NULL OR event_time < $to)
                    ORDER BY event_time
                ) TO $path ({(export.Parquet ? "FORMAT PARQUET, COMPRESSION ZSTD" : "FORMAT CSV, HEADER")})
                """;
            copy.Parameters.Add(new DuckDBParameter("product", (object?)export.Product ?? DBNull.Value));
            copy.Parameters.Add(new DuckDBParameter("from", export.From is { } f ? f.ToDateTime(TimeOnly.MinValue) : DBNull.Value));
            copy.Parameters.Add(new DuckDBParameter("to", export.To is { } t ? t.AddDays(1).ToDateTime(TimeOnly.MinValue) : DBNull.Value));
            copy.Parameters.Add(new DuckDBParameter("path", export.TargetPath));

            using var done = new CancellationTokenSource();
            var reporting = ReportProgressAsync(connection, progress, done.Token);
            var rows = await copy.ExecuteNonQueryAsync(cancellationToken);
            await done.CancelAsync();
            await reporting;
            return rows;
        }
        catch (DuckDBException ex)
        {
            throw new ExportFailedException(ex.Message.Split('\n')[0], ex);
        }
    }

    private static async Task ReportProgressAsync(DuckDBConnection connection, Action<int> progress, CancellationToken done)
    {
        var last = -1;
        try
        {
            while (!done.IsCancellationRequested)
            {
                await Task.Delay(ProgressInterval, done);
                var percentage = (int)connection.GetQueryProgress().Percentage;
                if (percentage > last && percentage >= 0)
                {
                    progress(percentage);
                    last = percentage;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
