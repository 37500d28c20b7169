using Npgsql;

namespace Candor.Collector.Storage.Postgres;

/// <summary>
/// PostgreSQL storage for several collector instances on one database. Events land in a table
/// partitioned by month of arrival; dedup is a separate <c>event_ids</c> table keyed by
/// (product, event id), because a partitioned table's unique keys must include the partition key.
/// Writes claim the group's ids in <c>event_ids</c> in one statement (sent as arrays), then
/// binary-COPY only the claimed events into <c>events</c>. Plain SQL (no extensions), so it also
/// runs on Citus.
/// <para>PostgresEventStore.Schema.cs creates the tables and the monthly partitions,
/// .Writes.cs writes a group, .Reads.cs answers the admin API and the health checks; this file
/// schedules folding the rollups' pending counts.</para>
/// </summary>
internal sealed partial class PostgresEventStore : IEventStore
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly Lock _moveLock = new();
    private Task? _moving;
    private long _lastMove = long.MinValue / 2;
    private long _pendingRows;

    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="concurrentWrites">How many groups this instance commits at once, each on its own
    /// connection. The unique key on <c>event_ids</c> keeps concurrent claims exact, as it does
    /// between instances.</param>
    public PostgresEventStore(string connectionString, int concurrentWrites = 1)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        // The same few statements run for every group: prepared once per connection, they skip
        // parsing and planning (the rollup upserts take a dozen arrays each).
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 16;
        }

        _dataSource = builder.Build();
        ConcurrentWrites = concurrentWrites;
    }

    public int ConcurrentWrites { get; }

    /// <summary>How often a write starts folding the pending day and duration counts
    /// (<see cref="PostgresRollups.MoveAsync"/>); infinite for never (tests). Longer intervals fold
    /// more events into each row (durations repeat); shorter ones leave fewer rows pending for
    /// queries to read. A write also starts one once this instance has added
    /// <see cref="MaxPendingRows"/> rows since the last.</summary>
    internal TimeSpan MoveInterval { get; set; } = TimeSpan.FromSeconds(30);

    private const long MaxPendingRows = 2_000_000;

    /// <summary>Folds the pending counts now; false when another writer is doing it.</summary>
    internal async Task<bool> MovePendingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        return await PostgresRollups.MoveAsync(connection, cancellationToken);
    }

    private void MaybeMovePending()
    {
        lock (_moveLock)
        {
            if (MoveInterval == Timeout.InfiniteTimeSpan || _moving is { IsCompleted: false }
                || (Environment.TickCount64 - _lastMove < (long)MoveInterval.TotalMilliseconds
                    && Interlocked.Read(ref _pendingRows) < MaxPendingRows))
            {
                return;
            }

            _lastMove = Environment.TickCount64;
            Interlocked.Exchange(ref _pendingRows, 0);
            _moving = Task.Run(async () =>
            {
                try
                {
                    await MovePendingAsync(CancellationToken.None);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
                {
                    // The counts stay pending, and counted by every query, until a later write's
                    // fold succeeds.
                }
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? moving;
        lock (_moveLock)
        {
            moving = _moving;
        }

        if (moving is not null)
        {
            await moving;
        }

        await _dataSource.DisposeAsync();
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
