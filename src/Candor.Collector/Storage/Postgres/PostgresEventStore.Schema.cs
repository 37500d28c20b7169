using System.Globalization;
using Npgsql;

namespace Candor.Collector.Storage.Postgres;

/// <summary>The tables: created (or brought up to date, rollups filled) at start, and a
/// partition of <c>events</c> per month of arrival.</summary>
internal sealed partial class PostgresEventStore
{
    private const string EventColumnsDdl = """
            product text NOT NULL,
            event_id uuid NOT NULL,
            name text NOT NULL,
            schema_version text,
            event_time timestamptz NOT NULL,
            received_at timestamptz NOT NULL,
            install_id uuid,
            session_id uuid,
            project_id text,
            user_id text,
            product_version text,
            initial_version text,
            sdk_version text,
            runtime_version text,
            os_family text,
            os_version text,
            kernel_release text,
            architecture text,
            ci boolean,
            ci_name text,
            properties jsonb,
            country text,
            region text,
            ip_pseudonym text,
            subject text,
            duration_ms double precision,
            failed boolean,
            error_code text,
            install_id_per_process boolean,
            cloud text,
            cloud_platform text,
            cloud_region text,
            container text
        """;

    // The partitions this instance has made sure exist, so each month costs one round trip.
    private readonly HashSet<string> _partitions = new(StringComparer.Ordinal);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Two instances starting together must not race on CREATE ... IF NOT EXISTS.
        await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(4242001)", cancellationToken);
        // Which rollup tables this database lacks (a database from an older collector, or a new one).
        var missing = new HashSet<string>(StringComparer.Ordinal);
        await using (var exists = new NpgsqlCommand("SELECT t FROM unnest($1::text[]) t WHERE to_regclass(t) IS NULL", connection, transaction))
        {
            exists.Parameters.Add(new NpgsqlParameter { Value = PostgresRollups.Tables.Select(t => t.Table).ToArray() });
            await using var reader = await exists.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                missing.Add(reader.GetString(0));
            }
        }

        await ExecuteAsync(connection, $"""
            CREATE TABLE IF NOT EXISTS event_ids (
                product text NOT NULL,
                event_id uuid NOT NULL,
                PRIMARY KEY (product, event_id)
            );
            CREATE TABLE IF NOT EXISTS events (
            {EventColumnsDdl}
            ) PARTITION BY RANGE (received_at);
            ALTER TABLE events ADD COLUMN IF NOT EXISTS subject text;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS duration_ms double precision;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS failed boolean;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS error_code text;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS install_id_per_process boolean;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS cloud text;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS cloud_platform text;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS cloud_region text;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS container text;
            CREATE TABLE IF NOT EXISTS events_default PARTITION OF events DEFAULT;
            CREATE INDEX IF NOT EXISTS events_product_received ON events (product, received_at);
            -- Analytics: a date range skips the blocks (and partitions) outside it, since events
            -- arrive roughly in time order; "first seen" asks per install for an earlier event.
            CREATE INDEX IF NOT EXISTS events_event_time_brin ON events USING brin (event_time);
            CREATE INDEX IF NOT EXISTS events_product_install_time ON events (product, install_id, event_time);
            CREATE TABLE IF NOT EXISTS quarantine (
                product text NOT NULL,
                event_id uuid,
                reason_code text NOT NULL,
                message text NOT NULL,
                schema_ref text,
                received_at timestamptz NOT NULL,
                event_json text NOT NULL,
                install_id uuid
            );
            ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS install_id uuid;
            CREATE INDEX IF NOT EXISTS quarantine_product_received ON quarantine (product, received_at);
            -- Forget deletes (and access reads) an install's quarantined events.
            CREATE INDEX IF NOT EXISTS quarantine_product_install ON quarantine (product, install_id) WHERE install_id IS NOT NULL;
            -- Data rights: the keyed hashes of forgotten installs, and the key (PostgresEventStore.DataRights.cs).
            CREATE TABLE IF NOT EXISTS forgotten_installs (
                tombstone bytea PRIMARY KEY,
                forgotten_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE TABLE IF NOT EXISTS collector_secrets (
                name text PRIMARY KEY,
                value bytea NOT NULL
            );
            """, cancellationToken);
        foreach (var rollup in PostgresRollups.Tables.Where(t => missing.Contains(t.Table)))
        {
            // Created and filled from what the database already holds (tens of seconds for 10
            // million events) in this transaction, so no write can slip in between.
            await ExecuteAsync(connection, rollup.Ddl, cancellationToken);
            if (rollup.Backfill.Length > 0)
            {
                await ExecuteAsync(connection, rollup.Backfill, cancellationToken);
            }

            await ExecuteAsync(connection, $"ANALYZE {rollup.Table}", cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        var now = DateTimeOffset.UtcNow;
        await EnsurePartitionAsync(now, cancellationToken);
        await EnsurePartitionAsync(now.AddMonths(1), cancellationToken);
    }

    /// <summary>Creates the month's partition the first time an event of that month arrives. The name
    /// and bounds come from the date, never from input.</summary>
    private async Task EnsurePartitionAsync(DateTimeOffset at, CancellationToken cancellationToken)
    {
        var start = new DateTimeOffset(at.Year, at.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var name = "events_" + start.ToString("yyyy_MM", CultureInfo.InvariantCulture);
        if (_partitions.Contains(name))
        {
            return;
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(4242001)", cancellationToken);
        var from = start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var to = start.AddMonths(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        await ExecuteAsync(connection, $"CREATE TABLE IF NOT EXISTS {name} PARTITION OF events FOR VALUES FROM ('{from}') TO ('{to}')", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        _partitions.Add(name);
    }
}
