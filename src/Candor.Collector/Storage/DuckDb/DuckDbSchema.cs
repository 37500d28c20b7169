namespace Candor.Collector.Storage.DuckDb;

/// <summary>The DuckDB store's tables: created (or brought up to date) when it opens.</summary>
internal static class DuckDbSchema
{
    /// <summary>The events columns <see cref="StoredEvent.Read"/> reads, in its order.</summary>
    public const string EventColumns =
        "product, event_id, name, schema_version, event_time, received_at, install_id, session_id, project_id, user_id, " +
        "product_version, initial_version, sdk_version, runtime_version, os_family, os_version, kernel_release, " +
        "architecture, ci, ci_name, properties, country, region, ip_pseudonym, " +
        "install_id_per_process, cloud, cloud_platform, cloud_region, container";

    /// <summary>The string columns of <see cref="EventColumns"/>: what a row's size is measured by.</summary>
    public static readonly string[] EventStringColumns =
    [
        "product", "name", "schema_version", "project_id", "user_id", "product_version", "initial_version", "sdk_version", "runtime_version",
        "os_family", "os_version", "kernel_release", "architecture", "ci_name", "properties", "country", "region", "ip_pseudonym",
        "cloud", "cloud_platform", "cloud_region", "container",
    ];

    /// <summary>The string columns of <see cref="QuarantineRecord.Columns"/>.</summary>
    public static readonly string[] QuarantineStringColumns = ["product", "reason_code", "message", "schema_ref", "event_json"];

    /// <summary>Creates what is missing; columns added since the first release are added to an older file.
    /// The quarantine's <c>install_id</c> (what forget deletes by) is its last column in a new file and in
    /// an upgraded one alike, where the appender expects it; an older file's rows keep it NULL.
    /// <c>forgotten_installs</c> holds the tombstones of forgotten installs and <c>collector_secrets</c>
    /// the key they are hashed with (<see cref="DuckDbEventStore.ReadOrCreateTombstoneKeyAsync"/>).</summary>
    public const string CreateTables = """
        CREATE TABLE IF NOT EXISTS events (
            product VARCHAR NOT NULL,
            event_id UUID NOT NULL,
            name VARCHAR NOT NULL,
            schema_version VARCHAR,
            event_time TIMESTAMP NOT NULL,
            received_at TIMESTAMP NOT NULL,
            install_id UUID,
            session_id UUID,
            project_id VARCHAR,
            user_id VARCHAR,
            product_version VARCHAR,
            initial_version VARCHAR,
            sdk_version VARCHAR,
            runtime_version VARCHAR,
            os_family VARCHAR,
            os_version VARCHAR,
            kernel_release VARCHAR,
            architecture VARCHAR,
            ci BOOLEAN,
            ci_name VARCHAR,
            properties VARCHAR,
            country VARCHAR,
            region VARCHAR,
            ip_pseudonym VARCHAR,
            subject VARCHAR,
            duration_ms DOUBLE,
            failed BOOLEAN,
            error_code VARCHAR,
            install_seq INTEGER,
            install_id_per_process BOOLEAN,
            cloud VARCHAR,
            cloud_platform VARCHAR,
            cloud_region VARCHAR,
            container VARCHAR
        );
        ALTER TABLE events ADD COLUMN IF NOT EXISTS country VARCHAR;
        ALTER TABLE events ADD COLUMN IF NOT EXISTS region VARCHAR;
        ALTER TABLE events ADD COLUMN IF NOT EXISTS ip_pseudonym VARCHAR;
        ALTER TABLE events ADD COLUMN IF NOT EXISTS subject VARCHAR;
        ALTER TABLE events ADD COLUMN IF NOT EXISTS duration_ms DOUBLE;
        ALTER TABLE events ADD COLUMN IF NOT EXISTS failed BOOLEAN;
        ALTER TABLE events ADD COLUMN IF NOT EXISTS error_code VARCHAR;
        CREATE TABLE IF NOT EXISTS install_numbers (product VARCHAR NOT NULL, install_id UUID NOT NULL, seq INTEGER NOT NULL, first_seen TIMESTAMP NOT NULL);
        CREATE TABLE IF NOT EXISTS quarantine (
            product VARCHAR NOT NULL,
            event_id UUID,
            reason_code VARCHAR NOT NULL,
            message VARCHAR NOT NULL,
            schema_ref VARCHAR,
            received_at TIMESTAMP NOT NULL,
            event_json VARCHAR NOT NULL,
            install_id UUID
        );
        ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS install_id UUID;
        CREATE TABLE IF NOT EXISTS forgotten_installs (tombstone BLOB PRIMARY KEY, forgotten_at TIMESTAMP NOT NULL);
        CREATE TABLE IF NOT EXISTS collector_secrets (name VARCHAR PRIMARY KEY, value BLOB NOT NULL);
        CREATE TEMP TABLE IF NOT EXISTS incoming_ids (product VARCHAR NOT NULL, event_id UUID NOT NULL);
        """;

    /// <summary>The context columns added after install numbers, for a file from an older collector.
    /// Run after <c>install_seq</c> exists: the appender writes a row in the table's column order,
    /// so an upgraded file must end with the columns in the order a new file has them.</summary>
    public const string AddContextColumns = """
        ALTER TABLE events ADD COLUMN IF NOT EXISTS install_id_per_process BOOLEAN;
        ALTER TABLE events ADD COLUMN IF NOT EXISTS cloud VARCHAR;
        ALTER TABLE events ADD COLUMN IF NOT EXISTS cloud_platform VARCHAR;
        ALTER TABLE events ADD COLUMN IF NOT EXISTS cloud_region VARCHAR;
        ALTER TABLE events ADD COLUMN IF NOT EXISTS container VARCHAR;
        """;
}
