using System.Buffers.Binary;
using System.Security.Cryptography;
using Npgsql;

namespace Candor.Collector.Storage.Postgres;

/// <summary>
/// Forget and access (<see cref="IDataRights"/>); retention is in PostgresEventStore.Retention.cs.
/// <para>Several collector instances may write one install's events while another forgets it, so
/// forget and writes meet on an advisory lock per (product, install), keyed by the first 8 bytes
/// of its tombstone (the same on every instance, since they share the key): every group write
/// takes it shared for its installs, then reads their tombstones (PostgresEventStore.Writes.cs); a
/// forget takes it exclusively, so it waits for the writes in flight and the writes after it see
/// its tombstone.</para>
/// </summary>
internal sealed partial class PostgresEventStore
{
    private const string TombstoneKeyName = "tombstone_key";

    /// <summary>The tombstones the write path checks; the collector's one instance, set at registration.</summary>
    public ForgottenInstalls Forgotten { get; set; } = new();

    public async Task<byte[]> ReadOrCreateTombstoneKeyAsync(CancellationToken cancellationToken)
    {
        // Made once: instances starting together each offer a key, the first insert wins, and all
        // read the one kept.
        await using var batch = _dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO collector_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        {
            Parameters = { new NpgsqlParameter { Value = TombstoneKeyName }, new NpgsqlParameter { Value = RandomNumberGenerator.GetBytes(32) } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT value FROM collector_secrets WHERE name = $1")
        {
            Parameters = { new NpgsqlParameter { Value = TombstoneKeyName } },
        });
        // The INSERT returns no rows, so the reader starts on the SELECT's.
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetFieldValue<byte[]>(0);
    }

    public async Task<IReadOnlyList<byte[]>> ReadTombstonesAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT tombstone FROM forgotten_installs");
        var list = new List<byte[]>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(reader.GetFieldValue<byte[]>(0));
        }

        return list;
    }

    public async Task<ForgetOutcome> ForgetAsync(string product, Guid installId, byte[] tombstone, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ForgetOnceAsync(product, installId, tombstone, cancellationToken);
            }
            catch (PostgresException ex) when (attempt < 5 && ex.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                await Task.Delay(10 * attempt, cancellationToken);
            }
        }
    }

    private async Task<ForgetOutcome> ForgetOnceAsync(string product, Guid installId, byte[] tombstone, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // First the install's lock: the group writes holding it commit first (and are deleted
        // below), later ones wait for this commit and then see the tombstone.
        bool held, known;
        await using (var check = new NpgsqlBatch(connection, transaction))
        {
            check.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock($1)") { Parameters = { new NpgsqlParameter { Value = LockKey(tombstone) } } });
            check.BatchCommands.Add(new NpgsqlBatchCommand("""
                SELECT EXISTS (SELECT 1 FROM events WHERE product = $1 AND install_id = $2)
                    OR EXISTS (SELECT 1 FROM quarantine WHERE product = $1 AND install_id = $2),
                       EXISTS (SELECT 1 FROM forgotten_installs WHERE tombstone = $3)
                """)
            {
                Parameters = { new NpgsqlParameter { Value = product }, new NpgsqlParameter { Value = installId }, new NpgsqlParameter { Value = tombstone } },
            });
            await using var reader = await check.ExecuteReaderAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            (held, known) = (reader.GetBoolean(0), reader.GetBoolean(1));
        }

        if (!held && !known)
        {
            // Nothing to delete and never forgotten: nothing is written.
            await transaction.RollbackAsync(cancellationToken);
            return new ForgetOutcome(ForgetStatus.Unknown, 0, 0);
        }

        // From here this instance drops the install's events before they reach the database.
        Forgotten.Add(tombstone);
        await using var batch = new NpgsqlBatch(connection, transaction);
        // Each statement takes $1 product and $2 install, or no parameter.
        void Add(string sql)
        {
            var command = new NpgsqlBatchCommand(sql);
            if (sql.Contains("$2", StringComparison.Ordinal))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = product });
                command.Parameters.Add(new NpgsqlParameter { Value = installId });
            }

            batch.BatchCommands.Add(command);
        }

        // The fold lock: no other fold runs while the day tables are corrected.
        Add(PostgresRollups.FoldLock);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO forgotten_installs (tombstone) VALUES ($1) ON CONFLICT DO NOTHING")
        {
            Parameters = { new NpgsqlParameter { Value = tombstone } },
        });
        foreach (var statement in PostgresRollups.SubtractInstall())
        {
            Add(statement);
        }

        Add("DELETE FROM install_months WHERE product = $1 AND install_id = $2");
        Add("DELETE FROM event_months WHERE product = $1 AND install_id = $2");
        var deleteEvents = batch.BatchCommands.Count;
        Add("DELETE FROM events WHERE product = $1 AND install_id = $2");
        Add("DELETE FROM quarantine WHERE product = $1 AND install_id = $2");
        batch.Timeout = 0;
        await batch.ExecuteNonQueryAsync(cancellationToken);
        var events = batch.BatchCommands[deleteEvents].RecordsAffected;
        var quarantine = batch.BatchCommands[deleteEvents + 1].RecordsAffected;
        await transaction.CommitAsync(cancellationToken);
        return new ForgetOutcome(known ? ForgetStatus.AlreadyForgotten : ForgetStatus.Forgotten, events, quarantine);
    }

    public async Task<InstallRecords?> ReadInstallAsync(string product, Guid installId, int limit, CancellationToken cancellationToken)
    {
        await using var batch = _dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            $"SELECT {Columns.Replace("properties", "properties::text", StringComparison.Ordinal)} FROM events WHERE product = $1 AND install_id = $2 ORDER BY event_time DESC, event_id DESC LIMIT $3")
        {
            Parameters = { new NpgsqlParameter { Value = product }, new NpgsqlParameter { Value = installId }, new NpgsqlParameter { Value = limit + 1 } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            $"SELECT {QuarantineRecord.Columns} FROM quarantine WHERE product = $1 AND install_id = $2 ORDER BY received_at DESC LIMIT $3")
        {
            Parameters = { new NpgsqlParameter { Value = product }, new NpgsqlParameter { Value = installId }, new NpgsqlParameter { Value = limit + 1 } },
        });
        var events = new List<StoredEvent>();
        var quarantine = new List<QuarantineRecord>();
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                events.Add(StoredEvent.Read(reader));
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                quarantine.Add(QuarantineRecord.Read(reader));
            }
        }

        if (events.Count == 0 && quarantine.Count == 0)
        {
            return null;
        }

        var truncated = events.Count > limit || quarantine.Count > limit;
        return new InstallRecords(events.Take(limit).ToList(), quarantine.Take(limit).ToList(), truncated);
    }

    /// <summary>Loads the tombstone key (and the tombstones) when nothing has yet: the collector does
    /// it at start (StorageInitializer); a store used on its own does it on its first write.</summary>
    private async Task EnsureTombstoneKeyAsync(CancellationToken cancellationToken)
    {
        if (!Forgotten.IsLoaded)
        {
            Forgotten.Load(await ReadOrCreateTombstoneKeyAsync(cancellationToken), await ReadTombstonesAsync(cancellationToken));
        }
    }

    /// <summary>The advisory lock of an install: 64 bits of its tombstone (a collision only makes two
    /// installs wait on each other).</summary>
    private static long LockKey(byte[] tombstone) => BinaryPrimitives.ReadInt64BigEndian(tombstone);

    /// <summary>The distinct installs of a group's stored events and quarantined items, with their
    /// tombstones and lock keys; empty (and free) when none names an install.</summary>
    private Dictionary<(string Product, Guid Install), (byte[] Tombstone, long Key)> InstallsOf(
        IReadOnlyList<EventRecord> events, bool[] skipped, IReadOnlyList<QuarantineRecord> quarantine)
    {
        var installs = new Dictionary<(string, Guid), (byte[], long)>();
        void Add(string product, Guid? install)
        {
            if (install is { } id && !installs.ContainsKey((product, id)))
            {
                var tombstone = Forgotten.Tombstone(product, id);
                installs[(product, id)] = (tombstone, LockKey(tombstone));
            }
        }

        for (var i = 0; i < events.Count; i++)
        {
            if (!skipped[i])
            {
                Add(events[i].Product, events[i].Context.InstallId);
            }
        }

        foreach (var q in quarantine)
        {
            Add(q.Product, q.InstallId);
        }

        return installs;
    }
}
