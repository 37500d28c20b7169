using Candor.Protocol;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// Forget, access and retention (<see cref="IDataRights"/>). What was acknowledged may still be in the
/// journal only, so forget first stops the install's events from being journaled (the tombstone, under
/// <see cref="_writeGate"/>), then waits until the applier has stored everything journaled before, then
/// deletes — on the writer's connection between two of the applier's commits (<see cref="DuckDbConnections.ExclusiveAsync"/>),
/// so the install numbers the applier keeps change in step with the table. Nothing of the install can
/// reach the database afterwards: at runtime nothing of it is journaled any more, and a journal a crash
/// left is filtered by the tombstones when the store opens (<see cref="DuckDbGroupWriter.CommitAsync"/>).
/// </summary>
internal sealed partial class DuckDbEventStore
{
    /// <summary>Held while a group is checked and journaled (<see cref="WriteAsync"/>): once forget has
    /// added its tombstone under it, no group checked before the tombstone is still on its way to the journal.</summary>
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    /// <summary>The tombstones the write path checks; the collector's one instance, set at registration.
    /// The store loads its own tombstones into it when it opens (before applying a journal a crash left).</summary>
    public ForgottenInstalls Forgotten { get; set; } = new();

    public async Task<byte[]> ReadOrCreateTombstoneKeyAsync(CancellationToken cancellationToken) =>
        // Made when the store opened (LoadTombstonesAsync), so reading it is enough.
        await _connections.ReadAsync(reader => DuckDbDataRights.ReadKeyAsync(reader, cancellationToken), cancellationToken)
            ?? await _connections.ExclusiveAsync(writer => DuckDbDataRights.ReadOrCreateKeyAsync(writer, cancellationToken), cancellationToken);

    public Task<IReadOnlyList<byte[]>> ReadTombstonesAsync(CancellationToken cancellationToken) =>
        _connections.ReadAsync(reader => DuckDbDataRights.ReadTombstonesAsync(reader, cancellationToken), cancellationToken);

    public async Task<ForgetOutcome> ForgetAsync(string product, Guid installId, byte[] tombstone, CancellationToken cancellationToken)
    {
        // Whether anything is held, once what was acknowledged before the request is stored (a group
        // acknowledged while this runs comes after the forget, and an unknown install is then not forgotten).
        await WaitForAllStoredAsync(cancellationToken);
        if (!await _connections.ReadAsync(reader => DuckDbDataRights.HoldsAnythingAsync(reader, product, installId, tombstone, cancellationToken), cancellationToken))
        {
            return new ForgetOutcome(ForgetStatus.Unknown, 0, 0);
        }

        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            Forgotten.Add(tombstone);
        }
        finally
        {
            _writeGate.Release();
        }

        // Every group journaled before the tombstone is stored now; none after it holds the install.
        await WaitForAllStoredAsync(cancellationToken);
        var now = _time.GetUtcNow().UtcDateTime;
        var (already, events, quarantine) = await _connections.ExclusiveAsync(async writer =>
        {
            var result = await DuckDbDataRights.ForgetAsync(writer, product, installId, tombstone, now, cancellationToken);
            _installNumbers.Remove(product, installId);
            return result;
        }, cancellationToken);
        return new ForgetOutcome(already ? ForgetStatus.AlreadyForgotten : ForgetStatus.Forgotten, events, quarantine);
    }

    public async Task<InstallRecords?> ReadInstallAsync(string product, Guid installId, int limit, CancellationToken cancellationToken)
    {
        await WaitForStoredAsync(cancellationToken);
        var (events, quarantine) = await _reads.ReadInstallAsync(product, installId, limit == int.MaxValue ? limit : limit + 1, cancellationToken);
        if (events.Count == 0 && quarantine.Count == 0)
        {
            return null;
        }

        var truncated = events.Count > limit || quarantine.Count > limit;
        return new InstallRecords([.. events.Take(limit)], [.. quarantine.Take(limit)], truncated);
    }

    public async Task<RetentionOutcome> DeleteExpiredAsync(string product, DateTimeOffset eventsBefore, DateTimeOffset quarantineBefore, CancellationToken cancellationToken)
    {
        // Expired events acknowledged before the pass go with it (if the applier is failing, the next pass takes them).
        await WaitForStoredAsync(cancellationToken);
        var expired = await _connections.ExclusiveAsync(async writer =>
        {
            var result = await DuckDbDataRights.DeleteExpiredAsync(writer, product, eventsBefore.UtcDateTime, quarantineBefore.UtcDateTime, cancellationToken);
            foreach (var (install, firstSeen) in result.Moved)
            {
                _installNumbers.SetFirstSeen(product, install, firstSeen);
            }

            foreach (var install in result.Removed)
            {
                _installNumbers.Remove(product, install);
            }

            return result;
        }, cancellationToken);
        return new RetentionOutcome(expired.Events, expired.Quarantine);
    }

    /// <summary>Loads the tombstone key (made the first time) and the tombstones into <see cref="Forgotten"/>
    /// on the writer's connection, when the store opens: before a journal a crash left is applied, so that
    /// none of a forgotten install's events in it is stored again.</summary>
    private async Task LoadTombstonesAsync(CancellationToken cancellationToken)
    {
        var key = await DuckDbDataRights.ReadOrCreateKeyAsync(_connections.Writer, cancellationToken);
        Forgotten.Load(key, await DuckDbDataRights.ReadTombstonesAsync(_connections.Writer, cancellationToken));
    }

    /// <summary>Marks in <paramref name="drop"/> the events of forgotten installs and returns the
    /// quarantined events without those of forgotten installs. Free while no install was ever forgotten.</summary>
    internal static IReadOnlyList<QuarantineRecord> DropForgotten(
        ForgottenInstalls forgotten, IReadOnlyList<EventRecord> events, bool[] drop, IReadOnlyList<QuarantineRecord> quarantine)
    {
        if (forgotten.Count == 0)
        {
            return quarantine;
        }

        // A group's events share a few contexts: one tombstone hash per run of events of one context.
        EventContext? context = null;
        var product = "";
        var dropped = false;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (!ReferenceEquals(e.Context, context) || !string.Equals(e.Product, product, StringComparison.Ordinal))
            {
                (context, product) = (e.Context, e.Product);
                dropped = forgotten.IsForgotten(e.Product, e.Context.InstallId);
            }

            drop[i] |= dropped;
        }

        return quarantine.Any(q => forgotten.IsForgotten(q.Product, q.InstallId))
            ? [.. quarantine.Where(q => !forgotten.IsForgotten(q.Product, q.InstallId))]
            : quarantine;
    }

    /// <summary>Waits until everything acknowledged before is stored, or throws: forget must not
    /// decide or delete while acknowledged events may still be in the journal only.</summary>
    private async Task WaitForAllStoredAsync(CancellationToken cancellationToken)
    {
        if (!await _applier.TryWaitForStoredAsync(cancellationToken))
        {
            throw new IOException($"DuckDB has not stored the events acknowledged before the forget request: {_applier.LastApplyError ?? "no error reported"}.");
        }
    }
}
