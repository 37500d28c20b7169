namespace Candor.Collector.Storage.DuckDb;

/// <summary>The DuckDB store's log messages.</summary>
internal static partial class DuckDbStoreLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped {Bytes} bytes of the ingest journal {Path} at offset {Offset}: {Reason}")]
    public static partial void JournalSkipped(ILogger logger, string path, long offset, long bytes, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cut {Count} strings read back from the ingest journal to the store's bounds")]
    public static partial void StringsCut(ILogger logger, long count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Applying the ingest journal failed {Failures} times; applying the chunk part by part")]
    public static partial void Splitting(ILogger logger, Exception exception, int failures);

    [LoggerMessage(Level = LogLevel.Error, Message = "The database refused event {EventId} of {Product} on its own; it is quarantined as storage_rejected")]
    public static partial void EventRejected(ILogger logger, Exception exception, string product, Guid eventId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The database refused the quarantine row of event {EventId} of {Product} on its own; it is quarantined as storage_rejected")]
    public static partial void QuarantineRowRejected(ILogger logger, Exception exception, string product, Guid? eventId);
}
