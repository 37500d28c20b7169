
namespace Candor.Collector.Storage;

/// <summary>
/// What a store does for the end user's rights and the operator's retention: forget an install,
/// show what is held for it, delete what has expired. Each engine implements it beside its
/// <see cref="IEventStore"/> (DuckDbEventStore.DataRights.cs, PostgresEventStore.DataRights.cs).
/// </summary>
internal interface IDataRights
{
    /// <summary>The key tombstones are hashed with (32 random bytes): made the first time and kept in
    /// the store, so every instance on one database agrees.</summary>
    Task<byte[]> ReadOrCreateTombstoneKeyAsync(CancellationToken cancellationToken);

    /// <summary>Every tombstone kept.</summary>
    Task<IReadOnlyList<byte[]>> ReadTombstonesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Deletes everything held for the install: its events (stored, and acknowledged but not yet
    /// applied), its quarantined events, and its contributions to every rollup and install table, and
    /// keeps <paramref name="tombstone"/> so that its later events are refused. Adds the tombstone to
    /// <see cref="ForgottenInstalls"/> before deleting, so nothing written after the call starts
    /// survives. An install with nothing held and no tombstone is <see cref="ForgetStatus.Unknown"/>:
    /// nothing is written.
    /// </summary>
    Task<ForgetOutcome> ForgetAsync(string product, Guid installId, byte[] tombstone, CancellationToken cancellationToken);

    /// <summary>What is held for the install, newest first, at most <paramref name="limit"/> events and
    /// as many quarantined events; <see langword="null"/> when nothing is.</summary>
    Task<InstallRecords?> ReadInstallAsync(string product, Guid installId, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes the product's events whose event time is before <paramref name="eventsBefore"/>
    /// and its quarantined events received before <paramref name="quarantineBefore"/>, keeping every
    /// rollup equal to a recomputation from the events that remain. Both cut-offs are UTC midnights.</summary>
    Task<RetentionOutcome> DeleteExpiredAsync(string product, DateTimeOffset eventsBefore, DateTimeOffset quarantineBefore, CancellationToken cancellationToken);
}

internal enum ForgetStatus
{
    /// <summary>Deleted now, tombstone kept.</summary>
    Forgotten,

    /// <summary>A tombstone was already kept; anything found was deleted again.</summary>
    AlreadyForgotten,

    /// <summary>Nothing held and no tombstone: nothing done.</summary>
    Unknown,
}

/// <summary>What a forget did.</summary>
internal sealed record ForgetOutcome(ForgetStatus Status, long Events, long Quarantine);

/// <summary>What is held for one install.</summary>
internal sealed record InstallRecords(IReadOnlyList<StoredEvent> Events, IReadOnlyList<QuarantineRecord> Quarantine, bool Truncated);

/// <summary>What a retention pass deleted.</summary>
internal sealed record RetentionOutcome(long Events, long Quarantine);
