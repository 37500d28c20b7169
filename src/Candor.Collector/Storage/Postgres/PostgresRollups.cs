using Npgsql;

namespace Candor.Collector.Storage.Postgres;

/// <summary>
/// Small tables kept next to <c>events</c>, in the same transaction as every write, so that the
/// dashboard's questions read thousands of rows instead of scanning millions of events:
/// <list type="bullet">
/// <item><c>install_months</c>: per (product, month, install, install-level dimensions), a
/// bitmap of the days of the month the install sent an event (bit d-1 for day d), its first and
/// last event time and its event count;</item>
/// <item><c>day_counts</c>: per (product, day, install-level dimensions), the day's events,
/// command runs and failed command runs;</item>
/// <item><c>event_months</c> and <c>event_days</c>: the same two shapes per event name, subject
/// (command or operation) and error code, with the dimensions the filters use (version, OS, CI,
/// country): which installs, and how many events and failures;</item>
/// <item><c>duration_days</c>: per (product, day, event name, subject, duration), how many events
/// took that long: durations are whole milliseconds, so exact percentiles come from counting.</item>
/// </list>
/// The three day tables are counters that every writer would update (the same day, the same few
/// dimensions), or, for durations, about one row per event. So a write appends its counts to
/// <c>day_counts_pending</c>, <c>event_days_pending</c> and <c>duration_days_pending</c> (no index,
/// no locks to wait for) and <see cref="MoveAsync"/> folds them in every 30 s or so, one writer
/// at a time. Queries read both (<see cref="DayCounts"/>, <see cref="EventDays"/>,
/// <see cref="Durations"/>). The two month tables are per install, which one request writes: they
/// are updated in the write itself.
/// Rows are updated in place: their pages keep a fifth free so that an update stays on its page
/// (a heap-only update, no new index entries).
/// All are exact for any range of whole UTC days: a day is inside a range or not, and every
/// dimension they group by is part of their key (NULL equal to NULL). Days and months are those
/// of the event time in UTC, as the analytics queries count them. Only events written through
/// <see cref="PostgresEventStore"/> are counted; a start on a database without one of these
/// tables fills it from the events.
/// <para>This file defines the tables and folds the pending counts; PostgresRollups.Writes.cs adds
/// a group's events.</para>
/// </summary>
internal static partial class PostgresRollups
{
    /// <summary>The install-level dimensions, in key order. Each is a column of <c>events</c>
    /// with the same name and type, so the analytics dimension expressions work on all of them.</summary>
    public const string Dimensions =
        "product_version, initial_version, runtime_version, os_family, os_version, architecture, ci, ci_name, country, region";

    /// <summary>The event-level keys and the dimensions the filters use.</summary>
    public const string EventDimensions = "name, subject, error_code, product_version, os_family, ci, country";

    // Text in the rollups compares byte-wise (COLLATE "C"), as the labels sort, so the wide unique
    // keys need no locale-aware comparisons (no gain measured on a C.UTF-8 server; more expected
    // with other locales).
    private const string DimensionsDdl = """
        product_version text COLLATE "C", initial_version text COLLATE "C", runtime_version text COLLATE "C",
        os_family text COLLATE "C", os_version text COLLATE "C", architecture text COLLATE "C", ci boolean,
        ci_name text COLLATE "C", country text COLLATE "C", region text COLLATE "C"
        """;

    private const string EventDimensionsDdl = """
        name text COLLATE "C" NOT NULL, subject text COLLATE "C", error_code text COLLATE "C",
        product_version text COLLATE "C", os_family text COLLATE "C", ci boolean, country text COLLATE "C"
        """;

    // The counter tables whose writes go through a pending table, with their key and value columns.
    private static readonly (string Table, string Key, string Values)[] Folded =
    [
        ("day_counts", $"product, day, {Dimensions}", "events, runs, failures"),
        ("event_days", $"product, day, {EventDimensions}", "events, failures"),
        ("duration_days", "product, day, name, subject, duration_ms", "events"),
    ];

    /// <summary>Each table's DDL and the statement that fills it from the stored events. A
    /// backfill writes in time order, as ingest does, so a range's rows lie together on disk.</summary>
    public static readonly IReadOnlyList<(string Table, string Ddl, string Backfill)> Tables =
    [
        ("install_months", $"""
            CREATE TABLE install_months (
                product text COLLATE "C" NOT NULL, month date NOT NULL, install_id uuid NOT NULL, {DimensionsDdl},
                days integer NOT NULL, first_time timestamptz NOT NULL, last_time timestamptz NOT NULL, events bigint NOT NULL) WITH (fillfactor = 80);
            CREATE UNIQUE INDEX install_months_key ON install_months (product, month, install_id, {Dimensions}) NULLS NOT DISTINCT;
            -- "Has this install an event before the range?" is one probe here.
            CREATE INDEX install_months_install ON install_months (product, install_id, first_time);
            """, FillInstallMonths("TRUE")),
        ("day_counts", $"""
            CREATE TABLE day_counts (
                product text COLLATE "C" NOT NULL, day date NOT NULL, {DimensionsDdl},
                events bigint NOT NULL, runs bigint NOT NULL, failures bigint NOT NULL) WITH (fillfactor = 80);
            CREATE UNIQUE INDEX day_counts_key ON day_counts (product, day, {Dimensions}) NULLS NOT DISTINCT;
            """, $"INSERT INTO day_counts ({ColumnsOf("day_counts")}) {CountDays("day_counts", "TRUE")} ORDER BY product, 2"),
        ("event_months", $"""
            CREATE TABLE event_months (
                product text COLLATE "C" NOT NULL, month date NOT NULL, install_id uuid NOT NULL, {EventDimensionsDdl}, days integer NOT NULL) WITH (fillfactor = 80);
            CREATE UNIQUE INDEX event_months_key ON event_months (product, month, install_id, {EventDimensions}) NULLS NOT DISTINCT;
            """, FillEventMonths("TRUE")),
        ("event_days", $"""
            CREATE TABLE event_days (
                product text COLLATE "C" NOT NULL, day date NOT NULL, {EventDimensionsDdl}, events bigint NOT NULL, failures bigint NOT NULL) WITH (fillfactor = 80);
            CREATE UNIQUE INDEX event_days_key ON event_days (product, day, {EventDimensions}) NULLS NOT DISTINCT;
            """, $"INSERT INTO event_days ({ColumnsOf("event_days")}) {CountDays("event_days", "TRUE")} ORDER BY product, 2"),
        ("duration_days", """
            CREATE TABLE duration_days (
                product text COLLATE "C" NOT NULL, day date NOT NULL, name text COLLATE "C" NOT NULL, subject text COLLATE "C", duration_ms double precision NOT NULL, events bigint NOT NULL) WITH (fillfactor = 80);
            CREATE UNIQUE INDEX duration_days_key ON duration_days (product, day, name, subject, duration_ms) NULLS NOT DISTINCT;
            """, $"INSERT INTO duration_days ({ColumnsOf("duration_days")}) {CountDays("duration_days", "TRUE")} ORDER BY product, 2"),
        .. Folded.Select(f => ($"{f.Table}_pending", $"CREATE TABLE {f.Table}_pending (LIKE {f.Table});", "")),
    ];

    /// <summary>day_counts as queries read it: folded and pending counts, one relation.</summary>
    public static readonly string DayCounts = WithPending("day_counts");

    /// <summary>event_days as queries read it.</summary>
    public static readonly string EventDays = WithPending("event_days");

    /// <summary>duration_days as queries read it, named <c>durations</c>.</summary>
    public static readonly string Durations = WithPending("duration_days", "durations");

    // A folded table's key and value columns, as its pending table has them too.
    private static string ColumnsOf(string table)
    {
        var (_, key, values) = Folded.Single(f => f.Table == table);
        return $"{key}, {values}";
    }

    private static string WithPending(string table, string? alias = null) =>
        $"(SELECT {ColumnsOf(table)} FROM {table} UNION ALL SELECT {ColumnsOf(table)} FROM {table}_pending) {alias ?? table}";

    /// <summary>The month tables' rows of the events matching <paramref name="filter"/> (a condition
    /// on <c>events</c>), as a backfill inserts them: the whole table at start, one month of a few
    /// installs when retention cuts a month.</summary>
    public static string FillInstallMonths(string filter) => $"""
        INSERT INTO install_months (product, month, install_id, {Dimensions}, days, first_time, last_time, events)
        SELECT product, {Month}, install_id, {Dimensions}, bit_or({DayBit}), min(event_time), max(event_time), count(*)
        FROM events WHERE install_id IS NOT NULL AND ({filter}) GROUP BY product, 2, install_id, {Dimensions}
        ORDER BY product, 2, install_id
        """;

    /// <inheritdoc cref="FillInstallMonths"/>
    public static string FillEventMonths(string filter) => $"""
        INSERT INTO event_months (product, month, install_id, {EventDimensions}, days)
        SELECT product, {Month}, install_id, {EventDimensions}, bit_or({DayBit})
        FROM events WHERE install_id IS NOT NULL AND ({filter}) GROUP BY product, 2, install_id, {EventDimensions}
        ORDER BY product, 2, install_id
        """;

    /// <summary>A day table's counts of the events matching <paramref name="filter"/>, in the
    /// order of <see cref="ColumnsOf"/>: what a backfill inserts, and what a forget subtracts.</summary>
    private static string CountDays(string table, string filter) => table switch
    {
        "day_counts" => $"""
            SELECT product, {Day}, {Dimensions},
                   count(*), count(*) FILTER (WHERE name = 'command'), count(*) FILTER (WHERE name = 'command' AND failed)
            FROM events WHERE {filter} GROUP BY product, 2, {Dimensions}
            """,
        "event_days" => $"""
            SELECT product, {Day}, {EventDimensions}, count(*), count(*) FILTER (WHERE failed)
            FROM events WHERE {filter} GROUP BY product, 2, {EventDimensions}
            """,
        "duration_days" => $"""
            SELECT product, {Day}, name, subject, duration_ms, count(*)
            FROM events WHERE duration_ms IS NOT NULL AND ({filter}) GROUP BY product, 2, name, subject, duration_ms
            """,
        _ => throw new ArgumentOutOfRangeException(nameof(table), table, "not a day table"),
    };

    /// <summary>The statements that take one install's events out of the day tables, exactly, in
    /// the caller's transaction (which holds the fold lock and excludes every writer of the
    /// install): its counts added negated to the pending tables, everything pending folded, and
    /// the rows left at zero (no event) deleted, as a recomputation would not have them. Run
    /// before the install's events are deleted; parameters $1 product, $2 install.</summary>
    public static IEnumerable<string> SubtractInstall()
    {
        const string Install = "product = $1 AND install_id = $2";
        foreach (var (table, key, values) in Folded)
        {
            var negated = string.Join(", ", Enumerable.Range(key.Split(", ").Length + 1, values.Split(", ").Length).Select(i => $"-x.c{i}"));
            var columns = string.Join(", ", Enumerable.Range(1, key.Split(", ").Length + values.Split(", ").Length).Select(i => $"c{i}"));
            var kept = string.Join(", ", Enumerable.Range(1, key.Split(", ").Length).Select(i => $"x.c{i}"));
            yield return $"INSERT INTO {table}_pending ({ColumnsOf(table)}) SELECT {kept}, {negated} FROM ({CountDays(table, Install)}) x ({columns})";
        }

        foreach (var statement in FoldStatements())
        {
            yield return statement;
        }

        foreach (var (table, _, _) in Folded)
        {
            yield return $"DELETE FROM {table} WHERE product = $1 AND events = 0 AND day IN (SELECT DISTINCT {Day} FROM events WHERE {Install})";
        }
    }

    /// <summary>The day tables' names, folded and pending.</summary>
    public static IEnumerable<string> DayTables => Folded.SelectMany(f => new[] { f.Table, f.Table + "_pending" });

    /// <summary>Takes the lock that makes one writer at a time fold (blocking; <see cref="MoveAsync"/>
    /// only tries it).</summary>
    public const string FoldLock = "SELECT pg_advisory_xact_lock(4242002)";

    /// <summary>Folds the pending counts into their tables, in one transaction (a query sees a
    /// count in one table or the other, never both or neither). Returns false, doing nothing, when
    /// another writer (or another collector instance) is folding them already.</summary>
    public static async Task<bool> MoveAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_xact_lock(4242002)", connection, transaction))
        {
            if (!(bool)(await tryLock.ExecuteScalarAsync(cancellationToken))!)
            {
                return false;
            }
        }

        foreach (var statement in FoldStatements())
        {
            await using var move = new NpgsqlCommand(statement, connection, transaction) { CommandTimeout = 0 };
            await move.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    // Moves every pending count into its table, one statement per table.
    private static IEnumerable<string> FoldStatements()
    {
        foreach (var (table, key, values) in Folded)
        {
            var names = values.Split(", ");
            yield return $"""
                WITH moved AS (DELETE FROM {table}_pending RETURNING {key}, {values})
                INSERT INTO {table} AS t ({key}, {values})
                SELECT {key}, {string.Join(", ", names.Select(v => $"sum({v})"))} FROM moved GROUP BY {key}
                ON CONFLICT ({key}) DO UPDATE SET {string.Join(", ", names.Select(v => $"{v} = t.{v} + excluded.{v}"))}
                """;
        }
    }

    private const string Day = "(event_time AT TIME ZONE 'UTC')::date";
    private const string Month = "date_trunc('month', event_time AT TIME ZONE 'UTC')::date";
    private const string DayBit = "1 << (extract(day FROM event_time AT TIME ZONE 'UTC')::int - 1)";
}
