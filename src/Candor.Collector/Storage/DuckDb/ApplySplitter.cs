namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// Applies a chunk of the journal that keeps failing as a whole: record by record, then a failing
/// record item by item, so that one row DuckDB refuses (it runs out of memory on it, say) does not keep
/// every acknowledged event behind it out of the database, with the store not ready, until someone
/// intervenes. An item refused on its own, twice, is stored in its place as a quarantine row with
/// reason <see cref="StorageRejection.ReasonCode"/> and an excerpt; if even that row cannot be stored the
/// database itself is failing, and the chunk is retried later. What is stored is marked in
/// <see cref="IngestJournal.Chunk.Stored"/>, so a retry stores each item once.
/// </summary>
internal sealed class ApplySplitter(JournalBounds bounds, JournalDiagnostics diagnostics)
{
    /// <summary>Stores what of <paramref name="chunk"/> is not stored yet, each part through
    /// <paramref name="commit"/> (one transaction); throws when a refused item's quarantine row fails too.</summary>
    public async Task ApplyAsync(IngestJournal.Chunk chunk, Func<IReadOnlyList<EventRecord>, IReadOnlyList<QuarantineRecord>, Task> commit)
    {
        var stored = chunk.Stored ??= new bool[chunk.Events.Count + chunk.Quarantine.Count];
        var records = chunk.Records.Count > 0 ? chunk.Records : [(chunk.Events.Count, chunk.Quarantine.Count)];
        var (events, quarantine) = (0, 0);
        foreach (var (eventsEnd, quarantineEnd) in records)
        {
            var items = new List<int>();
            for (var i = events; i < eventsEnd; i++)
            {
                items.Add(i);
            }

            for (var i = quarantine; i < quarantineEnd; i++)
            {
                items.Add(chunk.Events.Count + i);
            }

            (events, quarantine) = (eventsEnd, quarantineEnd);
            items.RemoveAll(i => stored[i]);
            if (items.Count == 0 || (await TryCommitAsync(chunk, items, commit)).Stored)
            {
                continue;
            }

            foreach (var item in items)
            {
                var (done, error) = await TryCommitAsync(chunk, [item], commit);
                if (!done)
                {
                    (done, error) = await TryCommitAsync(chunk, [item], commit);
                }

                if (!done)
                {
                    await RejectAsync(chunk, item, error!, commit);
                }
            }
        }
    }

    private static async Task<(bool Stored, Exception? Error)> TryCommitAsync(
        IngestJournal.Chunk chunk, List<int> items, Func<IReadOnlyList<EventRecord>, IReadOnlyList<QuarantineRecord>, Task> commit)
    {
        var events = new List<EventRecord>();
        var quarantine = new List<QuarantineRecord>();
        foreach (var i in items)
        {
            if (i < chunk.Events.Count)
            {
                events.Add(chunk.Events[i]);
            }
            else
            {
                quarantine.Add(chunk.Quarantine[i - chunk.Events.Count]);
            }
        }

        try
        {
            await commit(events, quarantine);
        }
        catch (Exception ex)
        {
            // Whatever failed, the caller narrows down or gives up on the item; nothing was stored.
            return (false, ex);
        }

        foreach (var i in items)
        {
            chunk.Stored![i] = true;
        }

        return (true, null);
    }

    private async Task RejectAsync(
        IngestJournal.Chunk chunk, int item, Exception error, Func<IReadOnlyList<EventRecord>, IReadOnlyList<QuarantineRecord>, Task> commit)
    {
        var message = StorageRejection.Refused(error);
        QuarantineRecord rejection;
        if (item < chunk.Events.Count)
        {
            var e = chunk.Events[item];
            rejection = StorageRejection.ForEvent(e, message, bounds);
            DuckDbStoreLog.EventRejected(diagnostics.Logger, error, e.Product, e.Id);
        }
        else
        {
            var q = chunk.Quarantine[item - chunk.Events.Count];
            rejection = StorageRejection.ForQuarantine(q, message, bounds);
            DuckDbStoreLog.QuarantineRowRejected(diagnostics.Logger, error, q.Product, q.EventId);
        }

        await commit([], [rejection]); // throws: the database is failing, not this item, and the chunk waits
        chunk.Stored![item] = true;
        diagnostics.CountRejected(1);
    }
}
