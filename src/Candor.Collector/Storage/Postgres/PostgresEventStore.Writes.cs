using Npgsql;

namespace Candor.Collector.Storage.Postgres;

/// <summary>Writing a group: the ids claimed in <c>event_ids</c> (dedup across groups and
/// instances), the claimed events and the quarantined items binary-copied, the rollups
/// updated, in one transaction.</summary>
internal sealed partial class PostgresEventStore
{
    // The columns of events, in the order WriteEvent writes them and ReadRecentAsync reads them
    // (StoredEvent.Read's order first).
    private const string Columns =
        "product, event_id, name, schema_version, event_time, received_at, install_id, session_id, project_id, user_id, " +
        "product_version, initial_version, sdk_version, runtime_version, os_family, os_version, kernel_release, " +
        "architecture, ci, ci_name, properties, country, region, ip_pseudonym, " +
        "install_id_per_process, cloud, cloud_platform, cloud_region, container, subject, duration_ms, failed, error_code";

    public async Task<bool[]> WriteAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, CancellationToken cancellationToken)
    {
        foreach (var e in events)
        {
            await EnsurePartitionAsync(e.ReceivedAt, cancellationToken);
        }

        await EnsureTombstoneKeyAsync(cancellationToken);

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var duplicate = await WriteOnceAsync(events, quarantine, cancellationToken);
                MaybeMovePending();
                return duplicate;
            }
            catch (PostgresException ex) when (attempt < 5 && ex.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                // Another instance claimed overlapping ids in another order; the retry sees its commit.
                await Task.Delay(10 * attempt, cancellationToken);
            }
            catch (PostgresException ex) when (IsContentError(ex.SqlState))
            {
                // The rows themselves were refused (ingest validation should make this unreachable):
                // the group-commit writer then retries each batch alone, so one bad batch fails alone.
                throw new StorageRejectedException(ex.SqlState, ex);
            }
        }
    }

    /// <summary>Data exceptions (class 22: invalid byte sequences, untranslatable characters, values
    /// out of range) and program limits (class 54: a value too large for an index row) come from what
    /// was written, not from the database's state.</summary>
    private static bool IsContentError(string sqlState) => sqlState.StartsWith("22", StringComparison.Ordinal) || sqlState.StartsWith("54", StringComparison.Ordinal);

    private async Task<bool[]> WriteOnceAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, CancellationToken cancellationToken)
    {
        var duplicate = new bool[events.Count];
        var firstSeen = new HashSet<(string, Guid)>(events.Count);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The group's distinct keys, sent as the two arrays of the claim below. Events of an install
        // this instance knows forgotten are dropped here, reported like duplicates.
        var products = new List<string>(events.Count);
        var ids = new List<Guid>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            if (!firstSeen.Add((events[i].Product, events[i].Id)) || Forgotten.IsForgotten(events[i].Product, events[i].Context.InstallId))
            {
                duplicate[i] = true;
            }
            else
            {
                products.Add(events[i].Product);
                ids.Add(events[i].Id);
            }
        }

        quarantine = [.. quarantine.Where(q => !Forgotten.IsForgotten(q.Product, q.InstallId))];
        var installs = InstallsOf(events, duplicate, quarantine);
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            if (installs.Count > 0)
            {
                // Another instance may have forgotten one of the group's installs: the shared locks
                // wait for a forget running now (it holds the install's lock exclusively until it
                // commits), then the tombstones are read in a later statement, so a forget is either
                // committed and seen here, or starts after this commit and deletes what it wrote.
                var keys = installs.Values.Select(t => t.Key).Distinct().Order().ToArray();
                batch.BatchCommands.Add(new NpgsqlBatchCommand(
                    "SELECT count(pg_advisory_xact_lock_shared(k)) FROM (SELECT k FROM unnest($1::bigint[]) k ORDER BY k) s")
                { Parameters = { new NpgsqlParameter { Value = keys } } });
                batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT tombstone FROM forgotten_installs WHERE tombstone = ANY($1::bytea[])")
                { Parameters = { new NpgsqlParameter { Value = installs.Values.Select(t => t.Tombstone).ToArray() } } });
            }

            if (ids.Count > 0)
            {
                // The keys are claimed in one statement (in key order, so two instances claiming
                // overlapping ids wait on each other instead of deadlocking; the unique key makes the
                // later claim a no-op), then the claimed events are copied straight into events, with
                // no staging copy of whole rows. Ids of a forgotten install stay claimed: event_ids
                // only serves dedup.
                batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                    INSERT INTO event_ids (product, event_id)
                    SELECT product, event_id FROM unnest($1::text[], $2::uuid[]) AS incoming (product, event_id)
                    ORDER BY product, event_id
                    ON CONFLICT DO NOTHING
                    RETURNING product, event_id
                    """)
                { Parameters = { new NpgsqlParameter { Value = products }, new NpgsqlParameter { Value = ids } } });
            }

            if (batch.BatchCommands.Count > 0)
            {
                var claimed = new HashSet<(string, Guid)>(ids.Count);
                var forgotten = new HashSet<(string, Guid)>();
                await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
                if (installs.Count > 0)
                {
                    await reader.NextResultAsync(cancellationToken);
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        var tombstone = reader.GetFieldValue<byte[]>(0);
                        Forgotten.Add(tombstone);
                        forgotten.Add(installs.Single(i => i.Value.Tombstone.AsSpan().SequenceEqual(tombstone)).Key);
                    }

                    await reader.NextResultAsync(cancellationToken);
                }

                while (ids.Count > 0 && await reader.ReadAsync(cancellationToken))
                {
                    claimed.Add((reader.GetString(0), reader.GetGuid(1)));
                }

                for (var i = 0; i < events.Count; i++)
                {
                    if (!duplicate[i])
                    {
                        duplicate[i] = !claimed.Contains((events[i].Product, events[i].Id))
                            || (events[i].Context.InstallId is { } install && forgotten.Contains((events[i].Product, install)));
                    }
                }

                if (forgotten.Count > 0)
                {
                    quarantine = [.. quarantine.Where(q => q.InstallId is not { } install || !forgotten.Contains((q.Product, install)))];
                }
            }
        }

        if (ids.Count > 0)
        {

            if (duplicate.Contains(false))
            {
                using var rows = new CopyRowBuffer();
                for (var i = 0; i < events.Count; i++)
                {
                    if (!duplicate[i])
                    {
                        WriteEvent(rows, events[i]);
                    }
                }

                await rows.SendAsync(connection, $"COPY events ({Columns}) FROM STDIN (FORMAT BINARY)", cancellationToken);
            }
        }

        if (quarantine.Count > 0)
        {
            using var rows = new CopyRowBuffer();
            foreach (var q in quarantine)
            {
                rows.StartRow(8);
                rows.WriteText(q.Product);
                rows.WriteUuid(q.EventId);
                rows.WriteText(q.ReasonCode);
                rows.WriteText(q.Message);
                rows.WriteText(q.SchemaRef);
                rows.WriteTimestamp(q.ReceivedAt);
                rows.WriteText(q.EventJson);
                rows.WriteUuid(q.InstallId);
            }

            await rows.SendAsync(connection, $"COPY quarantine ({QuarantineRecord.Columns}) FROM STDIN (FORMAT BINARY)", cancellationToken);
        }

        // Last: the month rows it updates stay locked until the commit.
        var pending = await PostgresRollups.AddAsync(connection, transaction, events, duplicate, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Interlocked.Add(ref _pendingRows, pending);
        return duplicate;
    }

    // The order of Columns.
    private static void WriteEvent(CopyRowBuffer rows, EventRecord e)
    {
        var c = e.Context;
        rows.StartRow(33);
        rows.WriteText(e.Product);
        rows.WriteUuid(e.Id);
        rows.WriteText(e.Name);
        rows.WriteText(e.SchemaVersion);
        rows.WriteTimestamp(e.Time);
        rows.WriteTimestamp(e.ReceivedAt);
        rows.WriteUuid(c.InstallId);
        rows.WriteUuid(c.SessionId);
        rows.WriteText(c.ProjectId);
        rows.WriteText(c.UserId);
        rows.WriteText(c.ProductVersion);
        rows.WriteText(c.InitialVersion);
        rows.WriteText(c.SdkVersion);
        rows.WriteText(c.RuntimeVersion);
        rows.WriteText(c.OsFamily);
        rows.WriteText(c.OsVersion);
        rows.WriteText(c.KernelRelease);
        rows.WriteText(c.Architecture);
        rows.WriteBoolean(c.Ci);
        rows.WriteText(c.CiName);
        rows.WriteJsonb(e.PropertiesJson);
        rows.WriteText(e.Country);
        rows.WriteText(e.Region);
        rows.WriteText(e.IpPseudonym);
        rows.WriteBoolean(c.InstallIdPerProcess);
        rows.WriteText(c.Cloud);
        rows.WriteText(c.CloudPlatform);
        rows.WriteText(c.CloudRegion);
        rows.WriteText(c.Container);
        rows.WriteText(e.Analytics.Subject);
        rows.WriteDouble(e.Analytics.DurationMs);
        rows.WriteBoolean(e.Analytics.Failed);
        rows.WriteText(e.Analytics.ErrorCode);
    }
}
