using Candor.Collector.Analytics;
using Candor.Collector.Storage.Postgres;
using Npgsql;

namespace Candor.Benchmarks;

/// <summary>
/// The dashboard queries on PostgreSQL, over events generated with the same distribution as the
/// DuckDB store. The server comes from CANDOR_BENCH_PG (a connection string with rights to create
/// databases; bench/start-postgres.sh starts a throwaway one and prints it). The events are
/// generated once, in SQL, into a database named by the event count, and reused.
/// Run: CANDOR_BENCH_PG="$(bench/start-postgres.sh)" dotnet run -c Release --project bench/Candor.Benchmarks -- --filter '*PostgresAnalytics*'
/// </summary>
public class PostgresAnalyticsBenchmarks : AnalyticsBenchmarksBase
{
    private protected override IAnalyticsStore OpenStore()
    {
        var server = Environment.GetEnvironmentVariable("CANDOR_BENCH_PG");
        if (string.IsNullOrWhiteSpace(server))
        {
            throw new InvalidOperationException("Set CANDOR_BENCH_PG to a PostgreSQL connection string, e.g. CANDOR_BENCH_PG=\"$(bench/start-postgres.sh)\".");
        }

        var connectionString = GeneratedPostgresStore.EnsureAsync(server, EventCount).GetAwaiter().GetResult();
        GeneratedPostgresStore.ReportSizeAsync(connectionString).GetAwaiter().GetResult();
        return new PostgresAnalyticsStore(connectionString);
    }
}

/// <summary>Generates the PostgreSQL benchmark store in SQL (generate_series, fixed seed), in a
/// schema made by the real <see cref="PostgresEventStore"/>, so its indexes are the collector's.</summary>
internal static class GeneratedPostgresStore
{
    public static async Task<string> EnsureAsync(string server, long events)
    {
        var name = $"candor_bench_v1_{events}";
        var builder = new NpgsqlConnectionStringBuilder(server);
        await using (var admin = new NpgsqlConnection(server))
        {
            await admin.OpenAsync();
            if (await ScalarAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = @name", name) is 1L)
            {
                return new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
            }

            // Database names cannot be parameters; these come from a number, not from input.
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {name}_partial");
            await ExecuteAsync(admin, $"CREATE DATABASE {name}_partial");
        }

        builder.Database = name + "_partial";
        await using (var store = new PostgresEventStore(builder.ConnectionString))
        {
            await store.InitializeAsync(CancellationToken.None);
        }

        Console.WriteLine($"Generating {events:N0} events into PostgreSQL database {name} (a few minutes per 10 million)...");
        await using (var connection = new NpgsqlConnection(builder.ConnectionString))
        {
            await connection.OpenAsync();
            await ExecuteAsync(connection, Generate, ("events", events));
            // The dedup keys, as ingest would have written them: part of the storage per event.
            await ExecuteAsync(connection, "INSERT INTO event_ids (product, event_id) SELECT product, event_id FROM events");
            await ExecuteAsync(connection, "VACUUM ANALYZE events");
        }

        NpgsqlConnection.ClearAllPools();
        await using (var admin = new NpgsqlConnection(server))
        {
            await admin.OpenAsync();
            await ExecuteAsync(admin, $"ALTER DATABASE {name}_partial RENAME TO {name}");
        }

        builder.Database = name;
        return builder.ConnectionString;
    }

    /// <summary>Prints the size per event of the events table (partitions with their indexes)
    /// and of the dedup keys (event_ids).</summary>
    public static async Task ReportSizeAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT sum(pg_total_relation_size(i.inhrelid))::bigint, pg_total_relation_size('event_ids'), (SELECT count(*) FROM events)
            FROM pg_inherits i WHERE i.inhparent = 'events'::regclass
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        var events = reader.GetInt64(0);
        var ids = reader.GetInt64(1);
        var count = reader.GetInt64(2);
        Console.WriteLine($"// PostgreSQL: {count:N0} events; events table with indexes {events / 1048576.0:N0} MiB = {(double)events / count:N0} bytes/event; " +
            $"with the dedup keys {(events + ids) / 1048576.0:N0} MiB = {(double)(events + ids) / count:N0} bytes/event");
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql, string name)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("name", name);
        return await command.ExecuteScalarAsync();
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        foreach (var (parameterName, value) in parameters)
        {
            command.Parameters.AddWithValue(parameterName, value);
        }

        await command.ExecuteNonQueryAsync();
    }

    // The DuckDB generator's distribution: 50k installs over 90 days; each event picks an install,
    // and the install fixes its platform. Rows are inserted in time order, as they would arrive.
    private const string Generate = """
        CREATE TABLE IF NOT EXISTS events_2026_07 PARTITION OF events FOR VALUES FROM ('2026-07-01') TO ('2026-08-01');
        CREATE TABLE IF NOT EXISTS events_2026_08 PARTITION OF events FOR VALUES FROM ('2026-08-01') TO ('2026-09-01');
        CREATE TABLE IF NOT EXISTS events_2026_09 PARTITION OF events FOR VALUES FROM ('2026-09-01') TO ('2026-10-01');
        CREATE TABLE IF NOT EXISTS events_2026_10 PARTITION OF events FOR VALUES FROM ('2026-10-01') TO ('2026-11-01');
        CREATE TABLE IF NOT EXISTS events_2026_11 PARTITION OF events FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
        SELECT setseed(0.42);
        CREATE TEMP TABLE installs AS
        SELECT i AS n, gen_random_uuid() AS install_id,
               (ARRAY['1.0.0','1.1.0','1.2.0','1.3.0','2.0.0','2.1.0','2.2.0','3.0.0-beta'])[1 + (i % 8)] AS version,
               (ARRAY['linux','linux','windows','windows','macos'])[1 + (i % 5)] AS os,
               (ARRAY['8.0.11','9.0.5','10.0.0'])[1 + (i % 3)] AS runtime,
               (ARRAY['x64','x64','x64','arm64'])[1 + (i % 4)] AS arch,
               (i % 5 = 0) AS ci,
               CASE WHEN i % 5 = 0 THEN (ARRAY['github-actions','gitlab','azure-pipelines','jenkins'])[1 + (i % 4)] END AS ci_name,
               (ARRAY['US','DE','FR','GB','IN','BR','JP','CN','CA','NL','PL','SE','ES','IT','AU','KR','CH','AT','BE','DK','FI','NO','IE','PT','CZ','RO','UA','MX','AR','ZA'])[1 + (i % 30)] AS country
        FROM generate_series(0, 49999) t(i);
        CREATE UNIQUE INDEX ON installs (n);
        ANALYZE installs;
        INSERT INTO events (product, event_id, name, schema_version, event_time, received_at, install_id, session_id, project_id, user_id,
                product_version, initial_version, sdk_version, runtime_version, os_family, os_version, kernel_release,
                architecture, ci, ci_name, properties, country, region, ip_pseudonym, subject, duration_ms, failed, error_code)
        SELECT 'acme', gen_random_uuid(), name, '1-0-0', ts, ts + interval '1 second', i.install_id, gen_random_uuid(), NULL, NULL,
               i.version, '1.0.0', '0.1.0', i.runtime, i.os, i.os || ' 1', NULL, i.arch, i.ci, i.ci_name,
               (CASE name
                   WHEN 'command' THEN '{"command":"' || subject || '","exit_code":' || CASE WHEN failed THEN 1 ELSE 0 END || ',"duration_ms":' || duration || '}'
                   WHEN 'operation' THEN '{"operation":"' || subject || '","outcome":"' || CASE WHEN failed THEN 'failure' ELSE 'success' END || '","duration_ms":' || duration
                       || CASE WHEN error_code IS NULL THEN '' ELSE ',"error_code":"' || error_code || '"' END || '}'
                   WHEN 'error' THEN '{"error_type":"IOException","error_code":"' || error_code || '"}'
                   ELSE '{}'
               END)::jsonb,
               i.country, NULL, NULL,
               subject, duration, failed, error_code
        FROM (
            SELECT *,
                   CASE name WHEN 'command' THEN (ARRAY['run','new','build','test','deploy','lint','info','telemetry status'])[1 + (e % 8)]
                             WHEN 'operation' THEN (ARRAY['load','save','sync'])[1 + (e % 3)]
                             WHEN 'error' THEN 'IOException' END AS subject,
                   (CASE name WHEN 'command' THEN 10 + (e % 997) WHEN 'operation' THEN 5 + (e % 500) END)::double precision AS duration,
                   CASE name WHEN 'command' THEN e % 20 = 0 WHEN 'operation' THEN e % 25 = 0 WHEN 'error' THEN TRUE END AS failed,
                   CASE WHEN name = 'operation' AND e % 25 = 0 THEN 'E' || (e % 7) WHEN name = 'error' THEN 'E' || (e % 11) END AS error_code
            FROM (
                SELECT e, CASE WHEN r < 0.70 THEN 'command' WHEN r < 0.85 THEN 'operation' WHEN r < 0.97 THEN 'heartbeat' ELSE 'error' END AS name, ts, n
                FROM (
                    SELECT e, random() AS r,
                           timestamptz '2026-11-01 00:00:00+00' - make_interval(secs => floor(random() * 90 * 86400)) AS ts,
                           floor(random() * 50000)::bigint AS n
                    FROM generate_series(0, @events - 1) t(e)) a) b
        ) g JOIN installs i ON i.n = g.n
        ORDER BY ts;
        """;
}
