using System.Data.Common;
using System.Globalization;
using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;
using Candor.Collector.Storage.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace Candor.Collector.Analytics;

/// <summary>
/// Analytics over the PostgreSQL event table, giving the same answers as
/// <see cref="DuckDbAnalyticsStore"/> (the shared contract tests run against both). SQL text is
/// constant: filters are always present and switched off by NULL parameters, and dimensions come
/// from a fixed map.
/// <para>Where the two differ in SQL, this one matches DuckDB's meaning: periods are truncated in
/// UTC (a week starts on Monday in both), labels sort byte-wise (<c>COLLATE "C"</c>, DuckDB's
/// order), <c>percentile_cont</c> is DuckDB's <c>quantile_cont</c>, and "latest value" ignores
/// NULLs as DuckDB's <c>arg_max</c> does.</para>
/// <para>Distinct counts are taken in two steps (group by install, then count the groups) rather
/// than with <c>count(DISTINCT …)</c>: the answer is the same, but PostgreSQL can hash and
/// parallelise a GROUP BY, while <c>count(DISTINCT …)</c> sorts every row in one process.</para>
/// </summary>
internal sealed class PostgresAnalyticsStore : IAnalyticsStore, IDisposable, IAsyncDisposable
{
    private const string Filter = $"{RollupFilter} AND {CommandFilter}";

    private const string CommandFilter = "(@command IS NULL OR (name = 'command' AND subject = @command))";

    private const string InRange = "event_time >= @from AND event_time < @to";

    // The product's events in range, matching the filters; every query starts from these rows.
    private const string Base = $"{Filter} AND {InRange}";

    // Installs first seen (under the filters) at or after @from, with their first and last event
    // before @until. The same installs as "min(event_time) >= @from" over every earlier event, but
    // found without scanning all history: events in the window, minus installs that have an
    // earlier event (one probe each into the (product, install_id, event_time) index).
    private const string FirstSeenInWindow = $"""
        SELECT w.install_id, w.first_seen, w.last_seen FROM (
            SELECT install_id, min(event_time) AS first_seen, max(event_time) AS last_seen
            FROM events WHERE {Filter} AND install_id IS NOT NULL AND event_time >= @from AND event_time < @until
            GROUP BY install_id) w
        WHERE NOT EXISTS (SELECT 1 FROM events WHERE {Filter} AND install_id = w.install_id AND event_time < @from)
        """;

    // The filters without the command, for the install-level rollups
    // (Storage/Postgres/PostgresRollups.cs), which do not keep it.
    private const string RollupFilter = """
        product = @product
        AND (@version IS NULL OR product_version = @version)
        AND (@os IS NULL OR os_family = @os)
        AND (@ci IS NULL OR ci = @ci)
        AND (@country IS NULL OR country = @country)
        """;

    // The bits of an install_months row (bit d-1 = day d of its month) for the range's days.
    private const string RangeDays =
        "(days::bigint & (((CAST(1 AS BIGINT) << (least(@to_day, (month + interval '1 month')::date) - month)) - 1)" +
        " - ((CAST(1 AS BIGINT) << greatest(@from_day - month, 0)) - 1)))";

    // install_months rows with an event in the range, matching the filters.
    private const string ActiveInRange = $"{RollupFilter} AND month >= @from_month AND month < @to_day AND {RangeDays} <> 0";

    // day_counts rows in the range, matching the filters.
    private const string DaysInRange = $"{RollupFilter} AND day >= @from_day AND day < @to_day";

    // Installs active in the range whose first event (under the filters) is in it, with that
    // first event's time: FirstSeenInWindow's installs, read from install_months.
    private const string NewInRange = $"""
        SELECT a.install_id, a.first_seen FROM (
            SELECT install_id, min(first_time) AS first_seen FROM install_months WHERE {ActiveInRange} GROUP BY install_id) a
        WHERE a.first_seen >= @from
          AND NOT EXISTS (SELECT 1 FROM install_months WHERE {RollupFilter} AND install_id = a.install_id AND first_time < @from)
        """;

    // The event-level rollups (event_months, event_days) keep the command too: every filter applies.
    private const string EventsActiveInRange = $"{Filter} AND month >= @from_month AND month < @to_day AND {RangeDays} <> 0";
    private const string EventDaysInRange = $"{Filter} AND day >= @from_day AND day < @to_day";

    // duration_days has no install-level dimensions: only for queries without those filters.
    private const string DurationDaysInRange =
        $"product = @product AND {CommandFilter} AND day >= @from_day AND day < @to_day";

    private const string Other = AnalyticsConstants.Other;
    private const string Unknown = AnalyticsConstants.Unknown;

    private const string SessionSettings = "SET jit = off";

    private readonly NpgsqlDataSource _dataSource;

    // How many analytics queries run on the server at once; the rest wait here. A dashboard load
    // asks 16 questions together, and each already uses the server's parallel workers: run all at
    // once on a small server and every one of them takes the sum of their times (measured at 10M
    // events on 2 cores: about 30 s, past Npgsql's 30 s command timeout), while two at a time
    // answer the first charts within seconds and none times out.
    private readonly SemaphoreSlim _running;

    private readonly bool _rollups;

    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="concurrentQueries">How many queries run on the server at once.</param>
    /// <param name="rollups">Whether questions read the rollups where they can (the default) or
    /// always scan the events, as before them (for benchmarks and tests that compare both).</param>
    public PostgresAnalyticsStore(string connectionString, int concurrentQueries = 2, bool rollups = true)
    {
        _rollups = rollups;
        _running = new SemaphoreSlim(concurrentQueries, concurrentQueries);
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        // These queries cost enough to trigger JIT compilation, which takes longer (measured: about
        // 0.8 s a query) than it saves on a few million rows.
        builder.UsePhysicalConnectionInitializer(
            connection => { using var command = new NpgsqlCommand(SessionSettings, connection); command.ExecuteNonQuery(); },
            async connection => { await using var command = new NpgsqlCommand(SessionSettings, connection); await command.ExecuteNonQueryAsync(); });
        _dataSource = builder.Build();
    }

    public async Task<IReadOnlyList<string>> ProductsAsync(CancellationToken cancellationToken) =>
        await QueryAsync("SELECT DISTINCT product COLLATE \"C\" AS product FROM events ORDER BY product", null, r => r.GetString(0), cancellationToken);

    public async Task<Summary> SummaryAsync(AnalyticsQuery query, CancellationToken cancellationToken)
    {
        var sql = ByRollups(query) ? $"""
            WITH counts AS (
                SELECT coalesce(sum(events), 0)::bigint AS events, coalesce(sum(runs), 0)::bigint AS runs, coalesce(sum(failures), 0)::bigint AS failures
                FROM {PostgresRollups.DayCounts} WHERE {DaysInRange}),
            active AS MATERIALIZED (
                SELECT install_id FROM install_months WHERE {ActiveInRange} GROUP BY install_id)
            SELECT counts.events, (SELECT count(*) FROM active), (SELECT count(*) FROM ({NewInRange}) n), counts.runs, counts.failures
            FROM counts
            """ : $"""
            WITH per_install AS MATERIALIZED (
                SELECT install_id, count(*) AS events,
                       count(*) FILTER (WHERE name = 'command') AS runs,
                       count(*) FILTER (WHERE name = 'command' AND failed) AS failures
                FROM events WHERE {Base} GROUP BY install_id)
            SELECT coalesce(sum(events), 0)::bigint, count(install_id),
                   -- New: active in the range, and no earlier event (as in FirstSeenInWindow).
                   (SELECT count(*) FROM per_install w WHERE w.install_id IS NOT NULL
                        AND NOT EXISTS (SELECT 1 FROM events WHERE {Filter} AND install_id = w.install_id AND event_time < @from)),
                   coalesce(sum(runs), 0)::bigint, coalesce(sum(failures), 0)::bigint
            FROM per_install
            """;
        var rows = await QueryAsync(sql, query, r =>
        {
            var runs = r.GetInt64(3);
            return new Summary(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), runs, runs == 0 ? 0 : (double)r.GetInt64(4) / runs);
        }, cancellationToken);
        return rows[0];
    }

    public async Task<IReadOnlyList<SeriesPoint>> ActiveInstallsAsync(AnalyticsQuery query, Interval interval, CancellationToken cancellationToken)
    {
        if (interval == Interval.Day && AnalyticsSql.BitmapDays(query) is var (firstDay, days))
        {
            var perInstall = ByRollups(query)
                ? $"""
                    (SELECT install_id, bit_or({ShiftedRangeDays("@day0")}) AS active
                     FROM install_months WHERE {ActiveInRange} GROUP BY install_id) p
                    """
                : $"""
                    (SELECT install_id, bit_or(CAST(1 AS BIGINT) << ((event_time AT TIME ZONE 'UTC')::date - @day0)) AS active
                     FROM events WHERE {Base} AND install_id IS NOT NULL GROUP BY install_id) p
                    """;
            var rows = await QueryAsync(AnalyticsSql.DayBitCounts(perInstall, days), query, r => AnalyticsSql.DailySeries(r, firstDay), cancellationToken,
                extra: [new NpgsqlParameter("day0", NpgsqlDbType.Date) { Value = DateOnly.FromDateTime(firstDay) }]);
            return rows[0];
        }

        if (ByRollups(query) && PeriodInstalls(query, interval, "NULL") is var (periods, parameters))
        {
            return await QueryAsync(
                $"SELECT period, count(install_id) FROM ({periods}) p GROUP BY period ORDER BY period",
                query, r => new SeriesPoint(Utc(r.GetDateTime(0)), r.GetInt64(1)), cancellationToken, extra: parameters);
        }

        return await QueryAsync(
            $"""
            SELECT period, count(install_id) FROM (
                SELECT date_trunc('{AnalyticsSql.Part(interval)}', event_time, 'UTC') AS period, install_id
                FROM events WHERE {Base} GROUP BY 1, 2) p
            GROUP BY period ORDER BY period
            """,
            query, r => new SeriesPoint(Utc(r.GetDateTime(0)), r.GetInt64(1)), cancellationToken);
    }

    public async Task<IReadOnlyList<SeriesPoint>> NewInstallsAsync(AnalyticsQuery query, Interval interval, CancellationToken cancellationToken) =>
        await QueryAsync(
            $"""
            SELECT date_trunc('{AnalyticsSql.Part(interval)}', first_seen, 'UTC') AS period, count(*)
            FROM ({(ByRollups(query) ? NewInRange : FirstSeenInWindow)}) f GROUP BY period ORDER BY period
            """,
            query, r => new SeriesPoint(Utc(r.GetDateTime(0)), r.GetInt64(1)), cancellationToken,
            extra: [Timestamp("until", query.To)]);

    public async Task<RetentionFigures> RetentionAsync(AnalyticsQuery query, DateTimeOffset asOf, CancellationToken cancellationToken)
    {
        // From the rollups, the cohort's last event before "as of" is one index probe per install.
        var cohort = ByRollups(query) ? $"""
            SELECT install_id, first_seen,
                   (SELECT max(event_time) FROM events WHERE {Filter} AND install_id = n.install_id AND event_time >= @from AND event_time < @until) AS last_seen
            FROM ({NewInRange}) n WHERE first_seen < @until
            """ : FirstSeenInWindow;
        var sql = $"""
            WITH cohort AS (SELECT * FROM ({cohort}) f WHERE first_seen < @to)
            SELECT
                count(*),
                count(*) FILTER (WHERE first_seen + interval '7 days' <= @until),
                count(*) FILTER (WHERE first_seen + interval '7 days' <= @until AND last_seen >= first_seen + interval '7 days'),
                count(*) FILTER (WHERE first_seen + interval '30 days' <= @until),
                count(*) FILTER (WHERE first_seen + interval '30 days' <= @until AND last_seen >= first_seen + interval '30 days')
            FROM cohort
            """;
        var rows = await QueryAsync(sql, query, r => (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4)), cancellationToken,
            extra: [Timestamp("until", asOf)]);
        var (installs, eligible7, retained7, eligible30, retained30) = rows[0];
        return RetentionFigures.FromCounts(installs, eligible7, retained7, eligible30, retained30);
    }

    public async Task<IReadOnlyList<InstallActivity>> InstallsAsync(AnalyticsQuery query, int limit, CancellationToken cancellationToken)
    {
        if (ByRollups(query))
        {
            // The installs last seen latest, from install_months: a row's last event time is the
            // install's last in the range unless the row has an event at or after its end (then the
            // scan below answers). The first event and the count in the range are one index probe
            // into events per install shown.
            var fromRollups = await QueryAsync(
                $"""
                WITH active AS MATERIALIZED (
                    SELECT install_id, max(last_time) AS last_seen, bool_or(last_time >= @to) AS beyond
                    FROM install_months WHERE {ActiveInRange} GROUP BY install_id),
                shown AS (SELECT install_id, last_seen FROM active ORDER BY last_seen DESC, install_id LIMIT @limit)
                SELECT s.install_id, e.first_seen, s.last_seen, e.events, (SELECT coalesce(bool_or(beyond), false) FROM active)
                FROM shown s CROSS JOIN LATERAL (
                    SELECT min(event_time) AS first_seen, count(*) AS events
                    FROM events WHERE {Filter} AND install_id = s.install_id AND event_time >= @from AND event_time < @to) e
                ORDER BY s.last_seen DESC, s.install_id
                """,
                query, r => (Row: new InstallActivity(r.GetGuid(0), Utc(r.GetDateTime(1)), Utc(r.GetDateTime(2)), r.GetInt64(3)), Beyond: r.GetBoolean(4)),
                cancellationToken, extra: [new NpgsqlParameter<int>("limit", limit)]);
            if (!fromRollups.Any(row => row.Beyond))
            {
                return [.. fromRollups.Select(row => row.Row)];
            }
        }

        return await QueryAsync(
            $"""
            SELECT install_id, min(event_time), max(event_time), count(*)
            FROM events WHERE {Base} AND install_id IS NOT NULL
            GROUP BY install_id ORDER BY max(event_time) DESC, install_id LIMIT @limit
            """,
            query, r => new InstallActivity(r.GetGuid(0), Utc(r.GetDateTime(1)), Utc(r.GetDateTime(2)), r.GetInt64(3)), cancellationToken,
            extra: [new NpgsqlParameter<int>("limit", limit)]);
    }

    public async Task<IReadOnlyList<BreakdownRow>> BreakdownAsync(AnalyticsQuery query, Dimension dimension, int k, CancellationToken cancellationToken)
    {
        var (key, where) = AnalyticsSql.DimensionKey(dimension);
        var eventLevel = dimension is Dimension.EventName or Dimension.Command or Dimension.ErrorCode;
        if (eventLevel ? ByEventRollups(query) : ByRollups(query))
        {
            // Which installs had each value from the month rollup, the events per value from the
            // day rollup; "other" counts its installs once.
            var (months, days) = eventLevel
                ? ($"event_months WHERE {EventsActiveInRange}", $"{PostgresRollups.EventDays} WHERE {EventDaysInRange}")
                : ($"install_months WHERE {ActiveInRange}", $"{PostgresRollups.DayCounts} WHERE {DaysInRange}");
            var fromRollups = $"""
                WITH g AS ({InstallsPerValue($"coalesce(({key})::text, '{Unknown}')", $"{months} AND {where}")}),
                ev AS (SELECT coalesce(({key})::text, '{Unknown}') AS k, sum(events) AS events FROM {days} AND {where} GROUP BY 1),
                {Folded("events")},
                {LabelInstalls($"coalesce(({key})::text, '{Unknown}')", $"{months} AND {where}")}
                SELECT f.label COLLATE "C" AS label, sum(f.events)::bigint AS events, coalesce(max(i.installs), 0) AS installs
                FROM folded f LEFT JOIN label_installs i ON i.label = f.label
                GROUP BY f.label ORDER BY installs DESC, events DESC, label
                """;
            return await QueryAsync(fromRollups, query, r => new BreakdownRow(r.GetString(0), r.GetInt64(1), r.GetInt64(2)), cancellationToken,
                extra: [new NpgsqlParameter<int>("k", k)]);
        }

        // Events per (value, install) first: small, and enough for both the per-value install
        // counts that decide the folding and the folded totals.
        var sql = $"""
            WITH per AS (
                SELECT coalesce(({key})::text, '{Unknown}') AS k, install_id, count(*) AS events
                FROM events WHERE {Base} AND {where} GROUP BY 1, 2),
            g AS (SELECT k, count(install_id) AS installs FROM per GROUP BY k)
            SELECT CASE WHEN g.installs >= @k THEN per.k ELSE '{Other}' END COLLATE "C" AS label,
                   sum(per.events)::bigint AS events, count(DISTINCT per.install_id) AS installs
            FROM per JOIN g ON per.k = g.k
            GROUP BY label ORDER BY installs DESC, events DESC, label
            """;
        return await QueryAsync(sql, query, r => new BreakdownRow(r.GetString(0), r.GetInt64(1), r.GetInt64(2)), cancellationToken,
            extra: [new NpgsqlParameter<int>("k", k)]);
    }

    public async Task<IReadOnlyList<SeriesBreakdownPoint>> VersionAdoptionAsync(AnalyticsQuery query, Interval interval, int k, CancellationToken cancellationToken)
    {
        // Folded per cell: a version seen by fewer than k installs in one period joins "other" there.
        const string Version = $"coalesce(product_version, '{Unknown}')";
        var rollup = ByRollups(query) ? PeriodInstalls(query, interval, Version) : null;
        var per = rollup?.Sql ?? $"""
            SELECT date_trunc('{AnalyticsSql.Part(interval)}', event_time, 'UTC') AS period, {Version} AS k, install_id
            FROM events WHERE {Base} AND install_id IS NOT NULL GROUP BY 1, 2, 3
            """;
        var sql = $"""
            WITH per AS ({per}),
            g AS (SELECT period, k, count(*) AS installs FROM per GROUP BY period, k)
            SELECT per.period, CASE WHEN g.installs >= @k THEN per.k ELSE '{Other}' END COLLATE "C" AS label,
                   count(DISTINCT per.install_id)
            FROM per JOIN g ON per.period = g.period AND per.k = g.k
            GROUP BY per.period, label ORDER BY per.period, label
            """;
        return await QueryAsync(sql, query, r => new SeriesBreakdownPoint(Utc(r.GetDateTime(0)), r.GetString(1), r.GetInt64(2)), cancellationToken,
            extra: [new NpgsqlParameter<int>("k", k), .. rollup?.Parameters ?? []]);
    }

    public Task<IReadOnlyList<CommandRow>> CommandsAsync(AnalyticsQuery query, int k, CancellationToken cancellationToken) =>
        RunsAsync(query, k, AnalyticsFields.CommandRunSql, cancellationToken);

    public Task<IReadOnlyList<CommandRow>> OperationsAsync(AnalyticsQuery query, int k, CancellationToken cancellationToken) =>
        RunsAsync(query, k, AnalyticsFields.OperationRunSql, cancellationToken);

    public async Task<NumericSummary> NumericAsync(AnalyticsQuery query, string eventName, string property, CancellationToken cancellationToken)
    {
        if (property == "duration_ms" && ByDurationRollup(query))
        {
            // Durations are counted per value in duration_days: every figure follows from the counts.
            var fromRollup = $"""
                WITH histogram AS (
                    SELECT '' AS label, duration_ms AS v, sum(events) AS n FROM {PostgresRollups.Durations} WHERE {DurationDaysInRange} AND name = @event GROUP BY 2),
                {AnalyticsSql.HistogramPercentiles("histogram", 0.5, 0.9, 0.99)}
                SELECT coalesce(sum(n), 0)::bigint, sum(v * n), sum(v * n) / sum(n),
                       (SELECT ARRAY[p50, p90, p99] FROM percentiles), min(v), max(v)
                FROM histogram
                """;
            var summary = await QueryAsync(fromRollup, query, ReadNumeric, cancellationToken, extra: [new NpgsqlParameter<string>("event", eventName)]);
            return summary[0];
        }

        // DuckDB's TRY_CAST(json AS DOUBLE): numbers, booleans as 1/0, numeric strings; anything else is skipped.
        var sql = $$"""
            WITH j AS (
                SELECT duration_ms, properties #> @path AS j
                FROM events WHERE {{Base}} AND name = @event),
            v AS (
                SELECT CASE WHEN @duration THEN duration_ms ELSE
                           CASE jsonb_typeof(j)
                               WHEN 'number' THEN j::double precision
                               WHEN 'boolean' THEN CASE WHEN j::boolean THEN 1.0 ELSE 0.0 END
                               WHEN 'string' THEN CASE WHEN j #>> '{}' ~ '^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$'
                                                       THEN (j #>> '{}')::double precision END
                           END
                       END AS v
                FROM j)
            SELECT count(v), sum(v), avg(v), percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY v), min(v), max(v)
            FROM v WHERE v IS NOT NULL
            """;
        var rows = await QueryAsync(sql, query, ReadNumeric, cancellationToken, extra:
        [
            new NpgsqlParameter<string>("event", eventName),
            new NpgsqlParameter<string[]>("path", property.Split('.')),
            new NpgsqlParameter<bool>("duration", property == "duration_ms"),
        ]);
        return rows[0];
    }

    public async Task<LiveInstances> LiveAsync(string product, DateTimeOffset since, int k, CancellationToken cancellationToken)
    {
        var query = new AnalyticsQuery(product, since, DateTimeOffset.MaxValue.AddYears(-1));
        // An instance is an install, or a process (session) when the sender has no install id.
        // Its version and country are those of its latest heartbeat that has one.
        const string Latest = """
            WITH latest AS (
                SELECT coalesce(install_id::text, session_id::text) AS instance,
                       (array_agg(product_version ORDER BY received_at DESC) FILTER (WHERE product_version IS NOT NULL))[1] AS version,
                       (array_agg(country ORDER BY received_at DESC) FILTER (WHERE country IS NOT NULL))[1] AS country
                FROM events WHERE product = @product AND name = 'heartbeat' AND received_at >= @from
                GROUP BY 1)
            """;
        var count = await QueryAsync($"{Latest} SELECT count(*) FROM latest", query, r => r.GetInt64(0), cancellationToken, filters: false);
        var byVersion = await QueryAsync(LiveBreakdown(Latest, "version"), query, r => new BreakdownRow(r.GetString(0), r.GetInt64(1), r.GetInt64(1)), cancellationToken,
            extra: [new NpgsqlParameter<int>("k", k)], filters: false);
        var byCountry = await QueryAsync(LiveBreakdown(Latest, "country"), query, r => new BreakdownRow(r.GetString(0), r.GetInt64(1), r.GetInt64(1)), cancellationToken,
            extra: [new NpgsqlParameter<int>("k", k)], filters: false);
        return new LiveInstances(since, count[0], byVersion, byCountry);
    }

    private static string LiveBreakdown(string latest, string column) => $"""
        {latest},
        g AS (SELECT coalesce({column}, '{Unknown}') AS k, count(*) AS n FROM latest GROUP BY k)
        SELECT CASE WHEN n >= @k THEN k ELSE '{Other}' END COLLATE "C" AS label, sum(n)::bigint AS n
        FROM g GROUP BY label ORDER BY n DESC, label
        """;

    private async Task<IReadOnlyList<CommandRow>> RunsAsync(AnalyticsQuery query, int k, string runFilter, CancellationToken cancellationToken)
    {
        if (ByDurationRollup(query))
        {
            // Installs per label from event_months, runs and failures from event_days, the
            // percentiles from the duration histogram of the label's runs (of the pooled runs for
            // "other") in duration_days.
            var fromRollups = $"""
                WITH g AS ({InstallsPerValue($"coalesce(subject, '{Unknown}')", $"event_months WHERE {EventsActiveInRange} AND {runFilter}")}),
                ev AS (
                    SELECT coalesce(subject, '{Unknown}') AS k, sum(events) AS runs, sum(failures) AS failures
                    FROM {PostgresRollups.EventDays} WHERE {EventDaysInRange} AND {runFilter} GROUP BY 1),
                {Folded("runs, ev.failures")},
                {LabelInstalls($"coalesce(subject, '{Unknown}')", $"event_months WHERE {EventsActiveInRange} AND {runFilter}")},
                counts AS (SELECT label, sum(runs)::bigint AS runs, sum(failures)::bigint AS failures FROM folded GROUP BY label),
                histogram AS (
                    SELECT f.label, d.v, sum(d.n) AS n
                    FROM (SELECT coalesce(subject, '{Unknown}') AS k, duration_ms AS v, sum(events) AS n
                          FROM {PostgresRollups.Durations} WHERE {DurationDaysInRange} AND {runFilter} GROUP BY 1, 2) d
                    JOIN folded f ON f.k = d.k GROUP BY 1, 2),
                {AnalyticsSql.HistogramPercentiles("histogram")}
                SELECT c.label COLLATE "C" AS label, c.runs, coalesce(i.installs, 0), c.failures, ARRAY[p50, p95] AS p
                FROM counts c LEFT JOIN label_installs i ON i.label = c.label LEFT JOIN percentiles p ON p.label = c.label
                ORDER BY c.runs DESC, label
                """;
            return await QueryAsync(fromRollups, query, ReadRun, cancellationToken, extra: [new NpgsqlParameter<int>("k", k)]);
        }

        // Usually every label has k installs or more, and one scan of the runs answers: grouping
        // sets count runs per (label, install) and per (label, duration) in that one scan, and the
        // percentiles come from the duration histogram (AnalyticsSql.HistogramPercentiles) instead
        // of sorting every run. Only when some label has fewer installs is the exact "other" row
        // (percentiles over the pooled runs) needed, and then the query below computes it.
        var byLabel = await QueryAsync($"""
            WITH sets AS MATERIALIZED (
                SELECT coalesce(subject, '{Unknown}') AS k, install_id, duration_ms AS v, GROUPING(duration_ms) AS per_install,
                       count(*) AS n, count(*) FILTER (WHERE failed) AS failures
                FROM events WHERE {Base} AND {runFilter}
                GROUP BY GROUPING SETS ((coalesce(subject, '{Unknown}'), install_id), (coalesce(subject, '{Unknown}'), duration_ms))),
            counts AS (
                SELECT k AS label, sum(n)::bigint AS runs, count(install_id) AS installs, sum(failures)::bigint AS failures
                FROM sets WHERE per_install = 1 GROUP BY k),
            histogram AS (SELECT k AS label, v, n FROM sets WHERE per_install = 0 AND v IS NOT NULL),
            {AnalyticsSql.HistogramPercentiles("histogram")}
            SELECT counts.label COLLATE "C" AS label, runs, installs, failures, ARRAY[p50, p95] AS p
            FROM counts LEFT JOIN percentiles ON percentiles.label = counts.label
            ORDER BY runs DESC, label
            """, query, r => (Row: ReadRun(r), Installs: r.GetInt64(2)), cancellationToken);
        if (byLabel.All(row => row.Installs >= k))
        {
            return [.. byLabel.Select(row => row.Row)];
        }

        var sql = $"""
            WITH per AS (
                SELECT coalesce(subject, '{Unknown}') AS k, install_id, count(*) AS runs, count(*) FILTER (WHERE failed) AS failures
                FROM events WHERE {Base} AND {runFilter} GROUP BY 1, 2),
            g AS (SELECT k, count(install_id) AS installs FROM per GROUP BY k),
            counts AS (
                SELECT CASE WHEN g.installs >= @k THEN per.k ELSE '{Other}' END AS label,
                       sum(per.runs)::bigint AS runs, count(DISTINCT per.install_id) AS installs, sum(per.failures)::bigint AS failures
                FROM per JOIN g ON per.k = g.k GROUP BY 1),
            percentiles AS (
                SELECT CASE WHEN g.installs >= @k THEN b.k ELSE '{Other}' END AS label,
                       percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY b.duration_ms) AS p
                FROM (SELECT coalesce(subject, '{Unknown}') AS k, duration_ms FROM events WHERE {Base} AND {runFilter}) b
                JOIN g ON b.k = g.k GROUP BY 1)
            SELECT counts.label COLLATE "C" AS label, counts.runs, counts.installs, counts.failures, percentiles.p
            FROM counts JOIN percentiles ON counts.label = percentiles.label
            ORDER BY counts.runs DESC, label
            """;
        return await QueryAsync(sql, query, ReadRun, cancellationToken, extra: [new NpgsqlParameter<int>("k", k)]);
    }

    private static NumericSummary ReadNumeric(DbDataReader r)
    {
        var p = r.IsDBNull(3) ? null : r.GetFieldValue<double?[]>(3);
        return new NumericSummary(r.GetInt64(0), D(r, 1), D(r, 2), p?[0], p?[1], p?[2], D(r, 4), D(r, 5));
    }

    // The ev rows (k, events or runs …) with the label each is shown under: its own, or "other"
    // when fewer than @k installs (from g) had it.
    private static string Folded(string values) => $"""
        folded AS (
            SELECT ev.k, CASE WHEN coalesce(g.installs, 0) >= @k THEN ev.k ELSE '{Other}' END AS label, ev.{values}
            FROM ev LEFT JOIN g ON g.k = ev.k)
        """;

    // (k, installs): how many installs had each value of a dimension, from the month rollup rows
    // in <paramref name="rows"/> ("table WHERE …").
    private static string InstallsPerValue(string value, string rows) =>
        $"SELECT k, count(*) AS installs FROM (SELECT {value} AS k, install_id FROM {rows} GROUP BY 1, 2) p GROUP BY k";

    // Installs per shown label: a label of its own has g's count; "other" counts the distinct
    // installs of the values folded into it (an install may have had several), reading the rows
    // again only when something was folded.
    private static string LabelInstalls(string value, string rows) => $"""
        label_installs AS (
            SELECT f.label, g.installs FROM folded f JOIN g ON g.k = f.k WHERE f.label <> '{Other}'
            UNION ALL
            SELECT '{Other}', count(DISTINCT install_id)
            FROM (SELECT {value} AS k, install_id FROM {rows}) r JOIN folded f ON f.k = r.k AND f.label = '{Other}')
        """;

    private static CommandRow ReadRun(DbDataReader r)
    {
        var runs = r.GetInt64(1);
        var failures = r.GetInt64(3);
        var p = r.IsDBNull(4) ? null : r.GetFieldValue<double?[]>(4);
        return new CommandRow(r.GetString(0), runs, r.GetInt64(2), failures, runs == 0 ? 0 : (double)failures / runs, p?[0], p?[1]);
    }

    /// <summary>Whether the query can be answered from the rollups: a range of whole UTC days and
    /// no command filter (the rollups count installs and events, not commands).</summary>
    private bool ByRollups(AnalyticsQuery query) => query.Command is null && ByEventRollups(query);

    /// <summary>Whether the event-level rollups answer: a range of whole UTC days (any filter).</summary>
    private bool ByEventRollups(AnalyticsQuery query) =>
        _rollups && query.From.UtcTicks % TimeSpan.TicksPerDay == 0 && query.To.UtcTicks % TimeSpan.TicksPerDay == 0;

    /// <summary>Whether duration_days answers: as <see cref="ByEventRollups"/>, and no filter on an
    /// install-level dimension, which that table does not keep.</summary>
    private bool ByDurationRollup(AnalyticsQuery query) =>
        ByEventRollups(query) && query is { Version: null, Os: null, Ci: null, Country: null };

    // An install_months row's range days as bits from the day <paramref name="origin"/> on.
    private static string ShiftedRangeDays(string origin) =>
        $"CASE WHEN month >= {origin} THEN {RangeDays} << (month - {origin}) ELSE {RangeDays} >> ({origin} - month) END";

    /// <summary>
    /// (period, k, install_id) for each period of <paramref name="interval"/> in which an install
    /// had an event with dimension value k, from install_months: a month is a row's month; days
    /// and weeks come from each (install, k)'s bitmap of active days since the first period's
    /// start. Null when that span is longer than a bitmap holds.
    /// </summary>
    private static (string Sql, NpgsqlParameter[] Parameters)? PeriodInstalls(AnalyticsQuery query, Interval interval, string key)
    {
        if (interval == Interval.Month)
        {
            return ($"""
                SELECT (month::timestamp AT TIME ZONE 'UTC') AS period, {key} AS k, install_id
                FROM install_months WHERE {ActiveInRange} GROUP BY 1, 2, 3
                """, []);
        }

        var fromDay = DateOnly.FromDateTime(query.From.UtcDateTime);
        // A week starts on Monday, as date_trunc('week', ...) has it.
        var origin = interval == Interval.Week ? fromDay.AddDays(-(((int)fromDay.DayOfWeek + 6) % 7)) : fromDay;
        var step = interval == Interval.Week ? 7 : 1;
        var span = DateOnly.FromDateTime(query.To.UtcDateTime).DayNumber - origin.DayNumber;
        if (span is <= 0 or > AnalyticsSql.MaxBitmapDays)
        {
            return null;
        }

        return ($"""
            SELECT ((@origin + @step * n)::timestamp AT TIME ZONE 'UTC') AS period, k, install_id
            FROM (SELECT {key} AS k, install_id, bit_or({ShiftedRangeDays("@origin")}) AS active
                  FROM install_months WHERE {ActiveInRange} GROUP BY 1, 2) b,
                 generate_series(0, @periods - 1) n
            WHERE (active >> (@step * n)) & @mask <> 0
            """,
            [
                new NpgsqlParameter("origin", NpgsqlDbType.Date) { Value = origin },
                new NpgsqlParameter<int>("step", step),
                new NpgsqlParameter<int>("periods", (span + step - 1) / step),
                new NpgsqlParameter<long>("mask", (1L << step) - 1),
            ]);
    }

    private async Task<IReadOnlyList<T>> QueryAsync<T>(
        string sql, AnalyticsQuery? query, Func<DbDataReader, T> read, CancellationToken cancellationToken,
        NpgsqlParameter[]? extra = null, bool filters = true)
    {
        await using var command = _dataSource.CreateCommand(sql);
        if (query is not null)
        {
            command.Parameters.Add(new NpgsqlParameter<string>("product", query.Product));
            command.Parameters.Add(Timestamp("from", query.From));
            if (filters)
            {
                command.Parameters.Add(Timestamp("to", query.To));
                command.Parameters.Add(Nullable("version", query.Version, NpgsqlDbType.Text));
                command.Parameters.Add(Nullable("os", query.Os, NpgsqlDbType.Text));
                command.Parameters.Add(Nullable("ci", query.Ci, NpgsqlDbType.Boolean));
                command.Parameters.Add(Nullable("country", query.Country, NpgsqlDbType.Text));
                command.Parameters.Add(Nullable("command", query.Command, NpgsqlDbType.Text));
                var fromDay = DateOnly.FromDateTime(query.From.UtcDateTime);
                command.Parameters.Add(new NpgsqlParameter("from_day", NpgsqlDbType.Date) { Value = fromDay });
                command.Parameters.Add(new NpgsqlParameter("from_month", NpgsqlDbType.Date) { Value = new DateOnly(fromDay.Year, fromDay.Month, 1) });
                command.Parameters.Add(new NpgsqlParameter("to_day", NpgsqlDbType.Date) { Value = DateOnly.FromDateTime(query.To.UtcDateTime) });
            }
        }

        foreach (var parameter in extra ?? [])
        {
            command.Parameters.Add(parameter);
        }

        await _running.WaitAsync(cancellationToken);
        try
        {
            var list = new List<T>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add(read(reader));
            }

            return list;
        }
        finally
        {
            _running.Release();
        }
    }

    private static NpgsqlParameter Timestamp(string name, DateTimeOffset value) =>
        new(name, NpgsqlDbType.TimestampTz) { Value = value.UtcDateTime };

    // Typed, so that "@x IS NULL" has a type PostgreSQL can plan with when the value is NULL.
    private static NpgsqlParameter Nullable(string name, object? value, NpgsqlDbType type) =>
        new(name, type) { Value = value ?? DBNull.Value };

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private static double? D(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Convert.ToDouble(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    public void Dispose()
    {
        _dataSource.Dispose();
        _running.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        _running.Dispose();
    }
}
