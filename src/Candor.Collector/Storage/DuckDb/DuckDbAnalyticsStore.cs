using System.Data.Common;
using Candor.Collector.Analytics;
using DuckDB.NET.Data;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// Analytics over the DuckDB event table. Reads use their own connections to the database the
/// ingest path writes, so dashboards never wait behind the writer. SQL text is constant: filters
/// are always present and switched off by NULL parameters, dimensions come from a fixed map, and
/// install counts take one of two fixed forms (see <see cref="Installs"/>).
/// </summary>
internal sealed partial class DuckDbAnalyticsStore : IAnalyticsStore, IDisposable
{
    private const string Filter = """
        product = $product
        AND ($version IS NULL OR product_version = $version)
        AND ($os IS NULL OR os_family = $os)
        AND ($ci IS NULL OR ci = $ci)
        AND ($country IS NULL OR country = $country)
        AND ($command IS NULL OR (name = 'command' AND subject = $command))
        """;

    private const string InRange = "event_time >= $from AND event_time < $to";

    // Every query starts from this: the product's events in range, matching the filters.
    private const string Base = $"SELECT * FROM events WHERE {Filter} AND {InRange}";

    /// <summary>
    /// The number of distinct installs among the rows, exactly. Written as a marker that
    /// <see cref="QueryAsync"/> turns into a bitmap over the dense install numbers the writer gives
    /// (Storage/DuckDb/InstallNumbers) and its count of set bits — measured at 10M events:
    /// command runs per label 332 -> 85 ms, daily actives 171 -> 68 ms, against
    /// count(DISTINCT install_id) — sized by the highest install number, read in the same snapshot
    /// as the query. Beyond a limit (a million installs by default) a bitmap per group would be too
    /// large for the memory limit, and it becomes count(DISTINCT) over the numbers.
    /// </summary>
    private static string Installs(string column = "install_seq") => $"/*installs*/({column})";

    private readonly string _connectionString;
    private readonly SemaphoreSlim _pool;
    private readonly Stack<DuckDBConnection> _idle = new();

    private readonly int _bitmapInstallLimit;
    private readonly IReadBarrier? _barrier;

    /// <param name="databasePath">The DuckDB file.</param>
    /// <param name="connections">How many queries run at once.</param>
    /// <param name="bitmapInstallLimit">The most installs counted with bitmaps (2^20: 128 KB per group).</param>
    /// <param name="barrier">Waits until what the collector acknowledged is in the database (the event
    /// store's <see cref="DuckDbEventStore.WaitForStoredAsync"/>): every query starts with it.</param>
    public DuckDbAnalyticsStore(string databasePath, int connections = 2, int bitmapInstallLimit = 1 << 20, IReadBarrier? barrier = null)
    {
        _barrier = barrier;
        _bitmapInstallLimit = bitmapInstallLimit;
        _connectionString = $"Data Source={databasePath}";
        _pool = new SemaphoreSlim(connections, connections);
    }

    public async Task<IReadOnlyList<string>> ProductsAsync(CancellationToken cancellationToken) =>
        await QueryAsync("SELECT DISTINCT product FROM events ORDER BY product", null, r => r.GetString(0), cancellationToken);

    public async Task<Summary> SummaryAsync(AnalyticsQuery query, CancellationToken cancellationToken)
    {
        var sql = $"""
            WITH base AS ({Base}),
            {Firsts(query)}
            SELECT count(*), {Installs()},
                   (SELECT count(*) FROM firsts WHERE first_seen >= $from),
                   count(*) FILTER (WHERE name = 'command'),
                   coalesce(avg(CASE WHEN failed THEN 1.0 ELSE 0.0 END) FILTER (WHERE name = 'command'), 0),
                   count(DISTINCT CASE WHEN name = 'command' THEN install_seq END)
            FROM base
            """;
        var rows = await QueryAsync(sql, query, r => new Summary(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3),
            Convert.ToDouble(r.GetValue(4), System.Globalization.CultureInfo.InvariantCulture), r.GetInt64(5)), cancellationToken);
        return rows[0];
    }

    public async Task<IReadOnlyList<SeriesPoint>> ActiveInstallsAsync(AnalyticsQuery query, Interval interval, CancellationToken cancellationToken)
    {
        if (interval == Interval.Day && AnalyticsSql.BitmapDays(query) is var (firstDay, days))
        {
            var perInstall = $"""
                (SELECT install_seq, bit_or(CAST(1 AS BIGINT) << CAST(date_diff('day', $day0, event_time) AS INTEGER)) AS active
                 FROM ({Base}) WHERE install_seq IS NOT NULL GROUP BY install_seq)
                """;
            var rows = await QueryAsync(AnalyticsSql.DayBitCounts(perInstall, days), query, r => AnalyticsSql.DailySeries(r, firstDay), cancellationToken,
                extra: [new DuckDBParameter("day0", firstDay)]);
            return rows[0];
        }

        return await QueryAsync(
            $"SELECT date_trunc('{AnalyticsSql.Part(interval)}', event_time) AS period, {Installs()} FROM ({Base}) GROUP BY period ORDER BY period",
            query, r => new SeriesPoint(Utc(r.GetDateTime(0)), r.GetInt64(1)), cancellationToken);
    }

    public async Task<IReadOnlyList<SeriesPoint>> NewInstallsAsync(AnalyticsQuery query, Interval interval, CancellationToken cancellationToken) =>
        await QueryAsync(
            $"""
            WITH {Firsts(query)}
            SELECT date_trunc('{AnalyticsSql.Part(interval)}', first_seen) AS period, count(*)
            FROM firsts WHERE first_seen >= $from GROUP BY period ORDER BY period
            """,
            query, r => new SeriesPoint(Utc(r.GetDateTime(0)), r.GetInt64(1)), cancellationToken);

    /// <summary>
    /// <c>firsts</c>: each install's first event matching the filters (before <c>$to</c>). Without
    /// filters that is the first-seen time the writer keeps per install (DuckDbEventStore's
    /// install_numbers), one row per install instead of a scan of every install's history.
    /// </summary>
    private static string Firsts(AnalyticsQuery query) =>
        query is { Version: null, Os: null, Ci: null, Country: null, Command: null }
            ? "firsts AS (SELECT seq AS install_seq, first_seen FROM install_numbers WHERE product = $product AND first_seen < $to)"
            : $"""
              firsts AS (
                  SELECT install_seq, min(event_time) AS first_seen
                  FROM events WHERE {Filter} AND install_seq IS NOT NULL AND event_time < $to GROUP BY install_seq)
              """;

    public async Task<RetentionFigures> RetentionAsync(AnalyticsQuery query, DateTimeOffset asOf, CancellationToken cancellationToken)
    {
        var sql = $"""
            WITH installs AS (
                SELECT install_seq, min(event_time) AS first_seen, max(event_time) AS last_seen
                FROM events WHERE {Filter} AND install_seq IS NOT NULL AND event_time < $asof GROUP BY install_seq),
            cohort AS (SELECT * FROM installs WHERE first_seen >= $from AND first_seen < $to)
            SELECT
                count(*),
                count(*) FILTER (WHERE first_seen + INTERVAL 7 DAY <= $asof),
                count(*) FILTER (WHERE first_seen + INTERVAL 7 DAY <= $asof AND last_seen >= first_seen + INTERVAL 7 DAY),
                count(*) FILTER (WHERE first_seen + INTERVAL 30 DAY <= $asof),
                count(*) FILTER (WHERE first_seen + INTERVAL 30 DAY <= $asof AND last_seen >= first_seen + INTERVAL 30 DAY)
            FROM cohort
            """;
        var rows = await QueryAsync(sql, query, r => (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4)), cancellationToken,
            extra: [new DuckDBParameter("asof", asOf.UtcDateTime)]);
        var (installs, eligible7, retained7, eligible30, retained30) = rows[0];
        return RetentionFigures.FromCounts(installs, eligible7, retained7, eligible30, retained30);
    }

    public async Task<IReadOnlyList<InstallActivity>> InstallsAsync(AnalyticsQuery query, int limit, CancellationToken cancellationToken) =>
        await QueryAsync(
            $"""
            SELECT install_id, min(event_time), max(event_time), count(*)
            FROM ({Base}) WHERE install_id IS NOT NULL
            GROUP BY install_id ORDER BY max(event_time) DESC, install_id LIMIT $limit
            """,
            query, r => new InstallActivity(r.GetGuid(0), Utc(r.GetDateTime(1)), Utc(r.GetDateTime(2)), r.GetInt64(3)), cancellationToken,
            extra: [new DuckDBParameter("limit", limit)]);

    public async Task<IReadOnlyList<BreakdownRow>> BreakdownAsync(AnalyticsQuery query, Dimension dimension, int k, CancellationToken cancellationToken)
    {
        var (key, where) = AnalyticsSql.DimensionKey(dimension);
        // Events per (value, install) first, in one pass: small, and enough for both the per-value
        // install counts that decide the folding and the folded totals (half the time of a distinct
        // count per value plus a second pass over the events for "other").
        var sql = $"""
            WITH per AS MATERIALIZED (
                SELECT coalesce(CAST({key} AS VARCHAR), '{AnalyticsConstants.Unknown}') AS k, install_seq, count(*) AS events
                FROM ({Base}) WHERE {where} GROUP BY ALL),
            g AS (SELECT k, count(install_seq) AS installs FROM per GROUP BY k)
            SELECT CASE WHEN g.installs >= $k THEN per.k ELSE '{AnalyticsConstants.Other}' END AS label,
                   sum(per.events)::BIGINT AS events, {Installs("per.install_seq")} AS installs
            FROM per JOIN g ON per.k = g.k
            GROUP BY label ORDER BY installs DESC, events DESC, label
            """;
        return await QueryAsync(sql, query, r => new BreakdownRow(r.GetString(0), r.GetInt64(1), r.GetInt64(2)), cancellationToken,
            extra: [new DuckDBParameter("k", k)]);
    }

    public async Task<IReadOnlyList<SeriesBreakdownPoint>> VersionAdoptionAsync(AnalyticsQuery query, Interval interval, int k, CancellationToken cancellationToken)
    {
        // Folded per cell: a version seen by fewer than k installs in one period joins "other" there.
        var sql = $"""
            WITH per AS MATERIALIZED (
                SELECT date_trunc('{AnalyticsSql.Part(interval)}', event_time) AS period,
                       coalesce(product_version, '{AnalyticsConstants.Unknown}') AS k, install_seq
                FROM ({Base}) WHERE install_seq IS NOT NULL GROUP BY ALL),
            g AS (SELECT period, k, count(*) AS installs FROM per GROUP BY period, k)
            SELECT per.period, CASE WHEN g.installs >= $k THEN per.k ELSE '{AnalyticsConstants.Other}' END AS label,
                   {Installs("per.install_seq")}
            FROM per JOIN g ON per.period = g.period AND per.k = g.k
            GROUP BY per.period, label ORDER BY per.period, label
            """;
        return await QueryAsync(sql, query, r => new SeriesBreakdownPoint(Utc(r.GetDateTime(0)), r.GetString(1), r.GetInt64(2)), cancellationToken,
            extra: [new DuckDBParameter("k", k)]);
    }

    public Task<IReadOnlyList<CommandRow>> CommandsAsync(AnalyticsQuery query, int k, CancellationToken cancellationToken) =>
        RunsAsync(query, k, AnalyticsFields.CommandRunSql, cancellationToken);

    public Task<IReadOnlyList<CommandRow>> OperationsAsync(AnalyticsQuery query, int k, CancellationToken cancellationToken) =>
        RunsAsync(query, k, AnalyticsFields.OperationRunSql, cancellationToken);

    public async Task<NumericSummary> NumericAsync(AnalyticsQuery query, string eventName, string property, CancellationToken cancellationToken)
    {
        var sql = $"""
            WITH v AS (
                SELECT CASE WHEN $path = '$.duration_ms' THEN duration_ms ELSE TRY_CAST(json_extract(properties, $path) AS DOUBLE) END AS v, install_seq
                FROM ({Base}) WHERE name = $event),
            s AS (SELECT count(v) AS n, sum(v) AS total, avg(v) AS mean, quantile_cont(v, [0.5, 0.9, 0.99]) AS q, min(v) AS lo, max(v) AS hi,
                         count(DISTINCT install_seq) AS installs
                  FROM v WHERE v IS NOT NULL)
            SELECT n, total, mean, q[1], q[2], q[3], lo, hi, installs FROM s
            """;
        var rows = await QueryAsync(sql, query, r => new NumericSummary(r.GetInt64(0), D(r, 1), D(r, 2), D(r, 3), D(r, 4), D(r, 5), D(r, 6), D(r, 7), r.GetInt64(8)), cancellationToken,
            extra: [new DuckDBParameter("event", eventName), new DuckDBParameter("path", "$." + property)]);
        return rows[0];
    }

    public async Task<LiveInstances> LiveAsync(string product, DateTimeOffset since, int k, CancellationToken cancellationToken)
    {
        var query = new AnalyticsQuery(product, since, DateTimeOffset.MaxValue.AddYears(-1));
        // An instance is an install, or a process (session) when the sender has no install id.
        var latest = $"""
            WITH hb AS (SELECT coalesce(CAST(install_id AS VARCHAR), CAST(session_id AS VARCHAR)) AS instance, product_version, country, received_at
                        FROM events WHERE product = $product AND name = 'heartbeat' AND received_at >= $from),
            latest AS (SELECT instance, arg_max(product_version, received_at) AS version, arg_max(country, received_at) AS country FROM hb GROUP BY instance)
            """;
        var count = await QueryAsync($"{latest} SELECT count(*) FROM latest", query, r => r.GetInt64(0), cancellationToken, filters: false);
        var byVersion = await QueryAsync(LiveBreakdown(latest, "version"), query, r => new BreakdownRow(r.GetString(0), r.GetInt64(1), r.GetInt64(1)), cancellationToken,
            extra: [new DuckDBParameter("k", k)], filters: false);
        var byCountry = await QueryAsync(LiveBreakdown(latest, "country"), query, r => new BreakdownRow(r.GetString(0), r.GetInt64(1), r.GetInt64(1)), cancellationToken,
            extra: [new DuckDBParameter("k", k)], filters: false);
        return new LiveInstances(since, count[0], byVersion, byCountry);
    }

    private static string LiveBreakdown(string latest, string column) => $"""
        {latest},
        g AS (SELECT coalesce({column}, '{AnalyticsConstants.Unknown}') AS k, count(*) AS n FROM latest GROUP BY k)
        SELECT CASE WHEN n >= $k THEN k ELSE '{AnalyticsConstants.Other}' END AS label, sum(n)::BIGINT AS n
        FROM g GROUP BY label ORDER BY n DESC, label
        """;

    private async Task<IReadOnlyList<CommandRow>> RunsAsync(AnalyticsQuery query, int k, string runFilter, CancellationToken cancellationToken)
    {
        // Read twice below (counts and histogram): DuckDB would otherwise keep all runs in range in
        // memory between the two, and under the collector's 48 MB memory limit spill them to disk
        // (measured: Commands 680 -> 400 ms at 10M events). Scanning twice is cheaper.
        var runs = $"""
            runs AS NOT MATERIALIZED (
                SELECT coalesce(subject, '{AnalyticsConstants.Unknown}') AS k, install_seq, failed, duration_ms AS v
                FROM ({Base}) WHERE {runFilter})
            """;
        // Usually every label has k installs or more, and one pass over the runs answers. Only when
        // some label has fewer is the "other" row (percentiles over the pooled runs) needed, and
        // then the query below, which counts per (label, install) first, computes it.
        var byLabel = await QueryAsync($"""
            WITH {runs},
            counts AS (
                SELECT k AS label, count(*) AS runs, {Installs()} AS installs, count(*) FILTER (WHERE failed) AS failures
                FROM runs GROUP BY k),
            histogram AS (SELECT k AS label, v, count(*) AS n FROM runs WHERE v IS NOT NULL GROUP BY k, v),
            {AnalyticsSql.HistogramPercentiles("histogram")}
            SELECT counts.label, runs, installs, failures, p50, p95
            FROM counts LEFT JOIN percentiles ON percentiles.label = counts.label
            ORDER BY runs DESC, counts.label
            """, query, r => (Row: ReadRun(r), Installs: r.GetInt64(2)), cancellationToken);
        if (byLabel.All(row => row.Installs >= k))
        {
            return [.. byLabel.Select(row => row.Row)];
        }

        return await QueryAsync($"""
            WITH {runs},
            per AS MATERIALIZED (
                SELECT k, install_seq, count(*) AS runs, count(*) FILTER (WHERE failed) AS failures FROM runs GROUP BY k, install_seq),
            labels AS MATERIALIZED (
                SELECT k, CASE WHEN count(install_seq) >= $k THEN k ELSE '{AnalyticsConstants.Other}' END AS label FROM per GROUP BY k),
            counts AS (
                SELECT label, sum(per.runs)::BIGINT AS runs, {Installs()} AS installs, sum(failures)::BIGINT AS failures
                FROM per JOIN labels ON per.k = labels.k GROUP BY label),
            histogram AS (
                SELECT label, v, count(*) AS n FROM runs JOIN labels ON runs.k = labels.k WHERE v IS NOT NULL GROUP BY label, v),
            {AnalyticsSql.HistogramPercentiles("histogram")}
            SELECT counts.label, runs, installs, failures, p50, p95
            FROM counts LEFT JOIN percentiles ON percentiles.label = counts.label
            ORDER BY runs DESC, counts.label
            """, query, ReadRun, cancellationToken, extra: [new DuckDBParameter("k", k)]);
    }

    private static CommandRow ReadRun(DbDataReader r)
    {
        var runs = r.GetInt64(1);
        var failures = r.GetInt64(3);
        return new CommandRow(r.GetString(0), runs, r.GetInt64(2), failures, runs == 0 ? 0 : (double)failures / runs, D(r, 4), D(r, 5));
    }
}
