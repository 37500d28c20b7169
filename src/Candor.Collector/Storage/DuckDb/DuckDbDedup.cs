using DuckDB.NET.Data;
using static Candor.Collector.Storage.DuckDb.DuckDbConnections;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// Which events of a group are already stored. Dedup is the writer's job, not a primary key's: DuckDB
/// locks its file to one process and the store has one writer, so checking a group's ids against the
/// table is exact, and it avoids the cost of maintaining an ART index on every append (measured: the
/// keyed INSERT ... ON CONFLICT was the largest part of each commit). The recent-id filter clears fresh
/// ids without a lookup; the rest are looked up in the table.
/// </summary>
internal sealed class DuckDbDedup(DuckDbConnections connections, int recentIdCapacity, TimeProvider time)
{
    /// <summary>How far back from its creation the recent-id filter covers ids: events sent within
    /// this long of being made skip the dedup lookup (a client's batches leave within seconds).</summary>
    internal static readonly TimeSpan RecentIdMargin = TimeSpan.FromSeconds(10);

    private RecentIdFilter? _recent;

    /// <summary>The recent-id filter, first (re)built when there is none yet or it is full (see <see cref="LoadAsync"/>).</summary>
    public async ValueTask<RecentIdFilter> RecentAsync(bool fromReader, Func<IReadOnlyCollection<Guid>> pending, CancellationToken cancellationToken)
    {
        if (_recent is null || _recent.IsFull)
        {
            await LoadAsync(fromReader, pending, cancellationToken);
        }

        return _recent!;
    }

    /// <summary>
    /// Builds a new recent-id filter covering ids from <see cref="RecentIdMargin"/> ago, filled with the
    /// stored ids it covers (a scan of the newest row groups only: ids are stored roughly in order)
    /// and those journaled and not yet applied (<paramref name="pending"/>). At open it reads on the
    /// writer's connection; later (<paramref name="fromReader"/>) on the reader's, while the applier
    /// writes: the pending ids are taken first, so an id the applier stores in between is in one or the other.
    /// </summary>
    public async Task LoadAsync(bool fromReader, Func<IReadOnlyCollection<Guid>> pending, CancellationToken cancellationToken)
    {
        var filter = new RecentIdFilter(recentIdCapacity, RecentIdFilter.BoundAt(time.GetUtcNow() - RecentIdMargin));
        var journaled = pending();
        if (fromReader)
        {
            await connections.ReadAsync(reader => ReadRecentAsync(reader, filter, cancellationToken), cancellationToken);
        }
        else
        {
            await ReadRecentAsync(connections.Writer, filter, cancellationToken);
        }

        foreach (var id in journaled)
        {
            filter.Add(id);
        }

        _recent = filter;
    }

    private static async Task<bool> ReadRecentAsync(DuckDBConnection connection, RecentIdFilter filter, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT event_id FROM events WHERE event_id >= $1";
        Add(command, filter.Bound);
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            filter.Add(reader.GetGuid(0));
        }

        return true;
    }

    /// <summary>
    /// The dedup rule both write paths share: marks in <paramref name="duplicate"/> the events that repeat
    /// one earlier in the group (or one in <paramref name="alreadyTaken"/>), and returns the indexes of
    /// those only the table can settle — ids below the recent-id filter's bound or that it may hold.
    /// </summary>
    public static List<int> ToLookUp(IReadOnlyList<EventRecord> events, bool[] duplicate, RecentIdFilter recent, HashSet<(string, Guid)>? alreadyTaken)
    {
        var firstSeen = new HashSet<(string, Guid)>(events.Count);
        var toCheck = new List<int>();
        for (var i = 0; i < events.Count; i++)
        {
            var key = (events[i].Product, events[i].Id);
            if (!firstSeen.Add(key) || alreadyTaken?.Contains(key) == true)
            {
                duplicate[i] = true;
            }
            else if (!recent.Covers(key.Id) || recent.MayContain(key.Id))
            {
                toCheck.Add(i);
            }
        }

        return toCheck;
    }

    /// <summary>Which of these ids are stored (with their product), read on the reader's connection
    /// (a checkpoint on the writer's does not block it).</summary>
    public Task<HashSet<(string, Guid)>> StoredAmongAsync(List<Guid> ids, CancellationToken cancellationToken) =>
        connections.ReadAsync(async connection =>
        {
            var stored = new HashSet<(string, Guid)>();
            using var command = connection.CreateCommand();
            var parameters = new System.Text.StringBuilder();
            for (var i = 0; i < ids.Count; i++)
            {
                parameters.Append(i == 0 ? "$1" : $", ${i + 1}");
                Add(command, ids[i]);
            }

            command.CommandText = $"SELECT product, event_id FROM events WHERE event_id IN ({parameters})";
            using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                stored.Add((reader.GetString(0), reader.GetGuid(1)));
            }

            return stored;
        }, cancellationToken);

    /// <summary>
    /// Marks repeats within the group in <paramref name="duplicate"/> and returns the ids already in
    /// the table, inside the writer's <paramref name="transaction"/>. Only ids the recent-id filter cannot
    /// clear are looked up: fresh ids almost never are. The lookup goes through a temp table and a semi
    /// join; ids are UUIDv7, so time-ordered, and DuckDB pushes their min/max into the scan of events,
    /// where zone maps skip every row group outside that range (an old id widens the range: a slower
    /// commit, never another outcome).
    /// </summary>
    public async Task<HashSet<(string, Guid)>> FindStoredAsync(
        IReadOnlyList<EventRecord> events, bool[] duplicate, RecentIdFilter recent, DuckDBTransaction transaction, CancellationToken cancellationToken)
    {
        var stored = new HashSet<(string, Guid)>();
        var toCheck = ToLookUp(events, duplicate, recent, alreadyTaken: null);
        if (toCheck.Count == 0)
        {
            return stored;
        }

        var writer = connections.Writer;
        using (var ids = writer.CreateAppender("temp", "main", "incoming_ids"))
        {
            foreach (var i in toCheck)
            {
                ids.CreateRow().AppendValue(events[i].Product).AppendValue(events[i].Id).EndRow();
            }
        }

        using (var command = writer.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = """
                SELECT e.product, e.event_id FROM events e
                SEMI JOIN incoming_ids i ON e.product = i.product AND e.event_id = i.event_id
                """;
            using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                stored.Add((reader.GetString(0), reader.GetGuid(1)));
            }
        }

        await ExecuteAsync(writer, "DELETE FROM incoming_ids", cancellationToken);
        return stored;
    }
}
