using Candor.Collector.Analytics;
using Npgsql;
using NpgsqlTypes;

namespace Candor.Collector.Storage.Postgres;

/// <summary>Questions about installs (how many, new, active over time, retained, the latest seen)
/// and live instances.</summary>
internal sealed partial class PostgresAnalyticsStore
{
    public async Task<Summary> SummaryAsync(AnalyticsQuery query, CancellationToken cancellationToken)
    {
        var sql = ByRollups(query) ? $"""
            WITH counts AS (
                SELECT coalesce(sum(events), 0)::bigint AS events, coalesce(sum(runs), 0)::bigint AS runs, coalesce(sum(failures), 0)::bigint AS failures
                FROM {PostgresRollups.DayCounts} WHERE {DaysInRange}),
            active AS MATERIALIZED (
                SELECT install_id FROM install_months WHERE {ActiveInRange} GROUP BY install_id)
            SELECT counts.events, (SELECT count(*) FROM active), (SELECT count(*) FROM ({NewInRange}) n), counts.runs, counts.failures,
                   (SELECT count(*) FROM (SELECT install_id FROM event_months WHERE {EventsActiveInRange} AND name = 'command' GROUP BY install_id) c)
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
                   coalesce(sum(runs), 0)::bigint, coalesce(sum(failures), 0)::bigint,
                   count(install_id) FILTER (WHERE runs > 0)
            FROM per_install
            """;
        var rows = await QueryAsync(sql, query, r =>
        {
            var runs = r.GetInt64(3);
            return new Summary(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), runs, runs == 0 ? 0 : (double)r.GetInt64(4) / runs, r.GetInt64(5));
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
}
