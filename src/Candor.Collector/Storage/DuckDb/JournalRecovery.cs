using System.Globalization;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// The journal files a crash (or a failing disk at shutdown) left beside the DuckDB file: acknowledged
/// groups, maybe not all stored. Opening the store applies them before anything else is written.
/// </summary>
internal static class JournalRecovery
{
    /// <summary>Whether journal files are left beside the DuckDB file: opening the store applies them.</summary>
    public static bool HasJournal(string databasePath) => Files(databasePath + ".journal").Count > 0;

    /// <summary>The journal files at <paramref name="journalPath"/> (the first) and numbered after it, in order.</summary>
    public static List<string> Files(string journalPath)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(journalPath))!;
        var name = Path.GetFileName(journalPath);
        if (!Directory.Exists(directory))
        {
            return [];
        }

        return Directory.EnumerateFiles(directory, name + "*")
            .Select(path => (Path: path, Suffix: Path.GetFileName(path)[name.Length..]))
            .Select(f => (f.Path, Number: f.Suffix.Length == 0 ? 1 : f.Suffix[0] == '.' && int.TryParse(f.Suffix[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1))
            .Where(f => f.Number > 0)
            .OrderBy(f => f.Number)
            .Select(f => f.Path)
            .ToList();
    }

    /// <summary>Applies the left journal files in order through the full dedup, then deletes them. What
    /// cannot be read is skipped and reported; a chunk DuckDB refuses is applied part by part
    /// (<see cref="ApplySplitter"/>), so no journal content keeps the store from opening.</summary>
    public static async Task ApplyAsync(
        string journalPath, JournalBounds bounds, JournalDiagnostics diagnostics, ApplySplitter splitter, DuckDbGroupWriter writer,
        CancellationToken cancellationToken)
    {
        foreach (var path in Files(journalPath))
        {
            using (var reader = new IngestJournal.Reader(path, bounds))
            {
                while (!reader.AtEnd)
                {
                    var chunk = diagnostics.Read(reader.ReadChunk(JournalApplier.ApplyChunkEvents, JournalApplier.ApplyChunkBytes));
                    if (chunk.Events.Count + chunk.Quarantine.Count == 0)
                    {
                        continue;
                    }

                    try
                    {
                        await writer.CommitAsync(chunk.Events, chunk.Quarantine, cancellationToken);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // Nothing else is waiting at open: part by part at once (each part deduplicated again).
                        DuckDbStoreLog.Splitting(diagnostics.Logger, ex, 1);
                        await splitter.ApplyAsync(chunk, (events, quarantine) => writer.CommitAsync(events, quarantine, cancellationToken));
                    }
                }
            }

            File.Delete(path);
        }
    }
}
