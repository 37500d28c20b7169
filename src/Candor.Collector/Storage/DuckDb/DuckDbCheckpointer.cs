namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// Checkpoints the DuckDB file on the applier's thread once its WAL passes a size, instead of inside a
/// commit, where DuckDB would run it and every write would wait (DuckDB's own threshold stays as a
/// backstop, far above, see <see cref="DuckDbMigrations"/>); requests are acknowledged from the journal meanwhile.
/// The checkpoint starts once the WAL beside <c>databasePath</c> passes <c>checkpointWalBytes</c> (0 leaves it to DuckDB).
/// </summary>
internal sealed class DuckDbCheckpointer(DuckDbConnections connections, string databasePath, long checkpointWalBytes, TimeProvider time)
{
    /// <summary>How long after a failed checkpoint the next is tried.</summary>
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(30);

    private readonly string _walPath = databasePath + ".wal";
    private long? _failedAt; // a timestamp of time
    private TaskCompletionSource? _running;

    /// <summary>DuckDB's worker threads outside checkpoints (its default: one per core), read at open.</summary>
    public long Threads { get; set; }

    /// <summary>Why the last checkpoint started failed, if it did (for tests and diagnostics).</summary>
    public string? LastError { get; private set; }

    /// <summary>The checkpoint running, or a completed task.</summary>
    public Task Running => _running?.Task ?? Task.CompletedTask;

    /// <summary>A test's hold on the next checkpoint: it starts when this task completes.</summary>
    public Task? Gate { get; set; }

    /// <summary>Checkpoints if the WAL has passed its size (and the last failure is long enough ago).</summary>
    public void MaybeCheckpoint()
    {
        if (checkpointWalBytes <= 0 || (_failedAt is { } failed && time.GetElapsedTime(failed) < RetryAfter) || WalBytes() < checkpointWalBytes)
        {
            return;
        }

        var running = _running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = Gate;
        Gate = null;
        try
        {
            Checkpoint(gate);
            _failedAt = null;
        }
#pragma warning disable CA1031 // Not fatal: DuckDB's own threshold and its close checkpoint remain.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // Not retried at once, so a checkpoint that keeps failing does not hold up the applier.
            _failedAt = time.GetTimestamp();
            LastError = ex.Message;
        }
        finally
        {
            running.SetResult();
        }
    }

    /// <summary>
    /// Runs DuckDB's checkpoint on the calling thread (the applier's) with DuckDB's worker threads held
    /// to that one until it ends. With its default of one worker per core, a checkpoint takes every
    /// core of a small machine for a second or two, and each worker keeps its own allocation caches:
    /// on two cores under full ingest, one thread gave the same throughput and about 20 MB less peak
    /// memory (bench/results/load-testing-history.md, run 10). Requests are acknowledged from the
    /// journal meanwhile, so a slower checkpoint holds up nothing; analytics queries that run during
    /// it get one thread too.
    /// </summary>
    private void Checkpoint(Task? gate)
    {
        using var command = connections.Writer.CreateCommand();
        if (Threads > 1)
        {
            command.CommandText = "SET threads = 1";
            command.ExecuteNonQuery();
        }

        try
        {
            gate?.GetAwaiter().GetResult();
            command.CommandText = "CHECKPOINT";
            command.ExecuteNonQuery();
        }
        finally
        {
            if (Threads > 1)
            {
                command.CommandText = $"SET threads = {Threads}";
                command.ExecuteNonQuery();
            }
        }
    }

    private long WalBytes()
    {
        var wal = new FileInfo(_walPath);
        return wal.Exists ? wal.Length : 0;
    }
}
