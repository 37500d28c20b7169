using Candor.Protocol;

namespace Candor.Collector.Storage;

/// <summary>What happened to one event handed to the store.</summary>
internal enum StoreResult
{
    Stored,
    Duplicate,
}

/// <summary>
/// Durable event storage, chosen once at startup. <see cref="AppendAsync"/> returns only after the
/// events are committed: the ingest endpoint acknowledges nothing before that.
/// </summary>
internal interface IEventStore : IAsyncDisposable
{
    /// <summary>Creates the schema if needed.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Stores a batch's events atomically; an event id already stored for the product is a
    /// duplicate and is not stored again. Results are in the order of <paramref name="events"/>.</summary>
    Task<IReadOnlyList<StoreResult>> AppendAsync(
        EventContext context, IReadOnlyList<TelemetryEvent> events, DateTimeOffset receivedAt, CancellationToken cancellationToken);

    /// <summary>The most recently received events of a product, newest first.</summary>
    Task<IReadOnlyList<StoredEvent>> ReadRecentAsync(string product, int limit, CancellationToken cancellationToken);

    /// <summary>Whether the storage answers.</summary>
    Task<bool> IsReachableAsync(CancellationToken cancellationToken);
}
