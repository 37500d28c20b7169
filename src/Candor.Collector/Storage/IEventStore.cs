namespace Candor.Collector.Storage;

/// <summary>
/// The write side of storage, used by the group-commit writer only. <see cref="WriteAsync"/>
/// returns after the group is durable (committed, or flushed to the DuckDB store's journal, which
/// is applied to the database behind it): nothing is acknowledged before that.
/// </summary>
internal interface IEventWriter
{
    /// <summary>Creates the schema if needed.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Stores a group of events and quarantined events durably, all or nothing. An event whose
    /// (product, id) is already stored, or appears earlier in the group, is a duplicate and is not
    /// stored again. Returns, in the order of <paramref name="events"/>, whether each was a duplicate.</summary>
    Task<bool[]> WriteAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, CancellationToken cancellationToken);

    /// <summary>How many groups may be committed at once: 1 where one connection writes (DuckDB),
    /// more where the database dedups concurrent transactions itself (PostgreSQL's unique key).</summary>
    int ConcurrentWrites { get; }
}

/// <summary>The read side of storage: the admin API and readiness.</summary>
internal interface IEventQuery
{
    /// <summary>The most recently received events of a product, newest first.</summary>
    Task<IReadOnlyList<StoredEvent>> ReadRecentAsync(string product, int limit, CancellationToken cancellationToken);

    /// <summary>The most recently quarantined events of a product, newest first.</summary>
    Task<IReadOnlyList<QuarantineRecord>> ReadQuarantineAsync(string product, int limit, CancellationToken cancellationToken);

    /// <summary>Counts the events of a product quarantined from <paramref name="from"/> (inclusive) to
    /// <paramref name="to"/> (exclusive), by the time they arrived: in total, by reason code and by schema.</summary>
    Task<QuarantineSummary> SummarizeQuarantineAsync(string product, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);

    /// <summary>Whether any event of any product is stored.</summary>
    Task<bool> HasEventsAsync(CancellationToken cancellationToken);

    /// <summary>Whether the storage answers.</summary>
    Task<bool> IsReachableAsync(CancellationToken cancellationToken);
}

/// <summary>A storage engine: both sides, chosen once at startup.</summary>
internal interface IEventStore : IEventWriter, IEventQuery, IDataRights, IAsyncDisposable;

/// <summary>The storage refused the content of a write (not its own state): retrying the same rows
/// will fail again. The group-commit writer retries each batch of a failed group alone, so only the
/// batch that holds such content is refused (422 <c>storage_rejected</c>).</summary>
internal sealed class StorageRejectedException(string reason, Exception? inner = null)
    : Exception("The storage refused the content: " + reason, inner)
{
    /// <summary>The store's reason, e.g. a PostgreSQL SQLSTATE; never the content.</summary>
    public string Reason { get; } = reason;
}
