using System.Data.Common;
using Candor.Collector.Analytics;
using Npgsql;

namespace Candor.Collector.Storage.Postgres;

/// <summary>Breakdowns: the values of a dimension, versions over time, and command and operation
/// runs, each value with fewer than k installs folded into "other".</summary>
internal sealed partial class PostgresAnalyticsStore
{
    public async Task<IReadOnlyList<BreakdownRow>> BreakdownAsync(AnalyticsQuery query, Dimension dimension, int k, CancellationToken cancellationToken)
    {
        var (key, where) = AnalyticsSql.DimensionKey(dimension);
        var eventLevel = dimension is Dimension.EventName or Dimension.Command or Dimension.ErrorCode;
        // The rollups do not key on where a process runs: those breakdowns scan the events (a wider
        // rollup key would pass the index row limit TextRules.MaxDimensionBytes is sized for, and
        // multiply the rollup rows of every install for a question asked far less often).
        var scanOnly = dimension is Dimension.Cloud or Dimension.CloudPlatform or Dimension.CloudRegion or Dimension.Container;
        if (!scanOnly && (eventLevel ? ByEventRollups(query) : ByRollups(query)))
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
}
