namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// What the DuckDB store could not take from its journal as written — stretches skipped, strings cut,
/// rows quarantined as <see cref="StorageRejection.ReasonCode"/> — reported three ways: a log line, a
/// Prometheus counter, and a count here for tests and diagnostics.
/// </summary>
internal sealed class JournalDiagnostics(ILogger logger)
{
    private long _skips;
    private long _stringsCut;
    private long _rejected;

    public ILogger Logger => logger;

    /// <summary>How many unreadable stretches of journal files were skipped (see <see cref="JournalSkip"/>).</summary>
    public long Skips => Interlocked.Read(ref _skips);

    /// <summary>How many strings read back from the journal were cut to <see cref="JournalBounds"/>.</summary>
    public long StringsCut => Interlocked.Read(ref _stringsCut);

    /// <summary>How many acknowledged items were quarantined as <see cref="StorageRejection.ReasonCode"/>.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Reports what reading <paramref name="chunk"/> skipped or cut, and returns it.</summary>
    public IngestJournal.Chunk Read(IngestJournal.Chunk chunk)
    {
        foreach (var skip in chunk.Skipped)
        {
            DuckDbStoreLog.JournalSkipped(logger, skip.Path, skip.Offset, skip.Bytes, skip.Reason);
            Operations.CollectorMetrics.JournalRecordsSkipped.WithLabels(skip.Reason).Inc();
            Interlocked.Increment(ref _skips);
        }

        if (chunk.StringsCut > 0)
        {
            DuckDbStoreLog.StringsCut(logger, chunk.StringsCut);
            Operations.CollectorMetrics.JournalStringsTruncated.Inc(chunk.StringsCut);
            Interlocked.Add(ref _stringsCut, chunk.StringsCut);
        }

        // An event quarantined on reading (its properties too long) is a rejection as well.
        CountRejected(chunk.Released.Count);
        return chunk;
    }

    /// <summary>Counts <paramref name="count"/> items quarantined as <see cref="StorageRejection.ReasonCode"/>.</summary>
    public void CountRejected(int count)
    {
        if (count > 0)
        {
            Operations.CollectorMetrics.StorageRejected.Inc(count);
            Interlocked.Add(ref _rejected, count);
        }
    }
}
