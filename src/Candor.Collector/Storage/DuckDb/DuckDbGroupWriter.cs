using static Candor.Collector.Storage.DuckDb.DuckDbConnections;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// Commits groups of events and quarantined events to DuckDB on the writer's connection, one
/// transaction each, through the appender, with each event's install number (<see cref="InstallNumbers"/>)
/// kept in the same transaction. Used by one thread at a time: at open, then the applier.
/// </summary>
internal sealed class DuckDbGroupWriter(DuckDbConnections connections, InstallNumbers installNumbers, DuckDbDedup dedup, Func<ForgottenInstalls> forgotten)
{
    /// <summary>A test's fault: called before each commit of journaled events (throw to fail it).</summary>
    public Action? BeforeApply { get; set; }

    /// <summary>Commits a group with the full dedup in its transaction: for journals a crash left,
    /// applied at open before the applier starts. Returns, per event, whether it was a duplicate. What
    /// belongs to a forgotten install is dropped: a forget that ran before the crash deleted those
    /// events from the table, and must not find them back.</summary>
    public async Task<bool[]> CommitAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, CancellationToken cancellationToken)
    {
        // Nothing is journaled and pending at open.
        var recent = await dedup.RecentAsync(fromReader: false, () => [], cancellationToken);
        var duplicate = new bool[events.Count];
        quarantine = DuckDbEventStore.DropForgotten(forgotten(), events, duplicate, quarantine);
        var installs = new InstallNumbers.GroupChanges();
        try
        {
            await WriteGroupAsync(events, quarantine, duplicate, recent, installs, cancellationToken);
        }
        catch
        {
            // Rolled back: what this group changed in the install numbers was not stored.
            installNumbers.Undo(installs);
            throw;
        }

        for (var i = 0; i < events.Count; i++)
        {
            if (!duplicate[i])
            {
                recent.Add(events[i].Id);
            }
        }

        return duplicate;
    }

    /// <summary>Commits journaled events in one transaction, without looking for duplicates (they were
    /// settled when the events were journaled).</summary>
    public async Task CommitJournaledAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine)
    {
        BeforeApply?.Invoke();
        var installs = new InstallNumbers.GroupChanges();
        try
        {
            await WriteGroupAsync(events, quarantine, new bool[events.Count], recent: null, installs, CancellationToken.None);
        }
        catch
        {
            // Rolled back: what this commit changed in the install numbers was not stored.
            installNumbers.Undo(installs);
            throw;
        }
    }

    /// <summary>Writes a group in one transaction; with <paramref name="recent"/>, first finds its
    /// duplicates (<see cref="DuckDbDedup.FindStoredAsync"/>), without it stores every event not marked in <paramref name="duplicate"/>.</summary>
    private async Task WriteGroupAsync(
        IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, bool[] duplicate, RecentIdFilter? recent,
        InstallNumbers.GroupChanges installs, CancellationToken cancellationToken)
    {
        var writer = connections.Writer;
        using var transaction = writer.BeginTransaction();
        var stored = recent is null ? [] : await dedup.FindStoredAsync(events, duplicate, recent, transaction, cancellationToken);
        using (var appender = writer.CreateAppender("events"))
        {
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i];
                if (duplicate[i] || (duplicate[i] = stored.Contains((e.Product, e.Id))))
                {
                    continue;
                }

                var c = e.Context;
                appender.CreateRow()
                    .AppendValue(e.Product).AppendValue(e.Id).AppendValue(e.Name).AppendValue(e.SchemaVersion)
                    .AppendValue(e.Time.UtcDateTime).AppendValue(e.ReceivedAt.UtcDateTime)
                    .AppendValue(c.InstallId).AppendValue(c.SessionId).AppendValue(c.ProjectId).AppendValue(c.UserId)
                    .AppendValue(c.ProductVersion).AppendValue(c.InitialVersion).AppendValue(c.SdkVersion).AppendValue(c.RuntimeVersion)
                    .AppendValue(c.OsFamily).AppendValue(c.OsVersion).AppendValue(c.KernelRelease).AppendValue(c.Architecture)
                    .AppendValue(c.Ci).AppendValue(c.CiName).AppendValue(e.PropertiesJson)
                    .AppendValue(e.Country).AppendValue(e.Region).AppendValue(e.IpPseudonym)
                    .AppendValue(e.Analytics.Subject).AppendValue(e.Analytics.DurationMs).AppendValue(e.Analytics.Failed).AppendValue(e.Analytics.ErrorCode)
                    .AppendValue(installNumbers.Number(e.Product, c.InstallId, e.Time.UtcDateTime, installs))
                    .AppendValue(c.InstallIdPerProcess).AppendValue(c.Cloud).AppendValue(c.CloudPlatform)
                    .AppendValue(c.CloudRegion).AppendValue(c.Container)
                    .EndRow();
            }
        }

        if (installs.Added.Count > 0)
        {
            using var appender = writer.CreateAppender("install_numbers");
            foreach (var key in installs.Added)
            {
                var install = installNumbers[key];
                appender.CreateRow().AppendValue(key.Product).AppendValue(key.Install).AppendValue(install.Number).AppendValue(install.FirstSeen).EndRow();
            }
        }

        foreach (var (key, _) in installs.Earlier)
        {
            var install = installNumbers[key];
            using var command = writer.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "UPDATE install_numbers SET first_seen = $1 WHERE seq = $2";
            Add(command, install.FirstSeen);
            Add(command, install.Number);
            command.ExecuteNonQuery();
        }

        if (quarantine.Count > 0)
        {
            using var appender = writer.CreateAppender("quarantine");
            foreach (var q in quarantine)
            {
                appender.CreateRow()
                    .AppendValue(q.Product).AppendValue(q.EventId).AppendValue(q.ReasonCode).AppendValue(q.Message)
                    .AppendValue(q.SchemaRef).AppendValue(q.ReceivedAt.UtcDateTime).AppendValue(q.EventJson)
                    .AppendValue(q.InstallId)
                    .EndRow();
            }
        }

        transaction.Commit();
    }
}
