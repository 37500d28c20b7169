using Candor.Collector.DataRights;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>Forget, access and retention (<see cref="IDataRights"/>).</summary>
internal sealed partial class DuckDbEventStore
{
    /// <summary>The tombstones the write path checks; the collector's one instance, set at registration.</summary>
    public ForgottenInstalls Forgotten { get; set; } = new();

    public Task<byte[]> ReadOrCreateTombstoneKeyAsync(CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<IReadOnlyList<byte[]>> ReadTombstonesAsync(CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<ForgetOutcome> ForgetAsync(string product, Guid installId, byte[] tombstone, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<InstallRecords?> ReadInstallAsync(string product, Guid installId, int limit, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<RetentionOutcome> DeleteExpiredAsync(string product, DateTimeOffset eventsBefore, DateTimeOffset quarantineBefore, CancellationToken cancellationToken) => throw new NotImplementedException();
}
