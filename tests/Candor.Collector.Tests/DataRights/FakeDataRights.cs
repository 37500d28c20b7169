using System.Collections.Concurrent;
using Candor.Collector.Storage;

namespace Candor.Collector.Tests.DataRights;

/// <summary>
/// A store's data rights in memory: installs it holds records for, tombstones it keeps (added to the
/// collector's <see cref="ForgottenInstalls"/> as a real store does, before deleting), and every call
/// that reads or deletes something recorded, so a test can assert that a refused request asked nothing.
/// </summary>
internal sealed class FakeDataRights(ForgottenInstalls forgotten) : IDataRights
{
    public static readonly byte[] Key = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    private readonly ConcurrentDictionary<string, byte> _tombstones = new();

    /// <summary>What is held, per product and install.</summary>
    public ConcurrentDictionary<(string Product, Guid InstallId), InstallRecords> Held { get; } = new();

    /// <summary>Each <see cref="ForgetAsync"/>, <see cref="ReadInstallAsync"/> and
    /// <see cref="DeleteExpiredAsync"/> call, in order, as <c>forget|read|delete product …</c>.</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>Each retention call's arguments.</summary>
    public ConcurrentQueue<(string Product, DateTimeOffset EventsBefore, DateTimeOffset QuarantineBefore)> Deletions { get; } = new();

    /// <summary>Products whose retention throws.</summary>
    public ConcurrentDictionary<string, byte> FailingProducts { get; } = new();

    public Task<byte[]> ReadOrCreateTombstoneKeyAsync(CancellationToken cancellationToken) => Task.FromResult(Key);

    public Task<IReadOnlyList<byte[]>> ReadTombstonesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<byte[]>>([.. _tombstones.Keys.Select(Convert.FromHexString)]);

    /// <summary>Keeps a tombstone without telling this instance's <see cref="ForgottenInstalls"/>: what
    /// another instance on the same database does.</summary>
    public void KeepTombstoneOfAnotherInstance(byte[] tombstone) => _tombstones.TryAdd(Convert.ToHexString(tombstone), 0);

    public Task<ForgetOutcome> ForgetAsync(string product, Guid installId, byte[] tombstone, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"forget {product} {installId}");
        var known = _tombstones.ContainsKey(Convert.ToHexString(tombstone));
        var held = Held.TryRemove((product, installId), out var records);
        if (!known && !held)
        {
            return Task.FromResult(new ForgetOutcome(ForgetStatus.Unknown, 0, 0));
        }

        _tombstones.TryAdd(Convert.ToHexString(tombstone), 0);
        forgotten.Add(tombstone);
        return Task.FromResult(new ForgetOutcome(
            known ? ForgetStatus.AlreadyForgotten : ForgetStatus.Forgotten, records?.Events.Count ?? 0, records?.Quarantine.Count ?? 0));
    }

    public Task<InstallRecords?> ReadInstallAsync(string product, Guid installId, int limit, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"read {product} {installId} {limit}");
        return Task.FromResult(Held.TryGetValue((product, installId), out var records) ? records : null);
    }

    public Task<RetentionOutcome> DeleteExpiredAsync(string product, DateTimeOffset eventsBefore, DateTimeOffset quarantineBefore, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"delete {product}");
        Deletions.Enqueue((product, eventsBefore, quarantineBefore));
        return FailingProducts.ContainsKey(product)
            ? Task.FromException<RetentionOutcome>(new InvalidOperationException("The store is unreachable."))
            : Task.FromResult(new RetentionOutcome(3, 1));
    }
}
