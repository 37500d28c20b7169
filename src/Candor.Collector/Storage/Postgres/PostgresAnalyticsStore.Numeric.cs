using System.Data.Common;
using Candor.Collector.Analytics;
using Candor.Protocol;
using Npgsql;

namespace Candor.Collector.Storage.Postgres;

/// <summary>Figures of a numeric property of one event: count, sum, mean, percentiles, extremes.</summary>
internal sealed partial class PostgresAnalyticsStore
{
    public async Task<NumericSummary> NumericAsync(AnalyticsQuery query, string eventName, string property, CancellationToken cancellationToken)
    {
        if (property == EventConventions.DurationMs && ByDurationRollup(query))
        {
            // Durations are counted per value in duration_days: every figure follows from the counts,
            // but for the installs behind them (which k-anonymity judges by), which no rollup keeps.
            var fromRollup = $"""
                WITH histogram AS (
                    SELECT '' AS label, duration_ms AS v, sum(events) AS n FROM {PostgresRollups.Durations} WHERE {DurationDaysInRange} AND name = @event GROUP BY 2),
                {AnalyticsSql.HistogramPercentiles("histogram", 0.5, 0.9, 0.99)}
                SELECT coalesce(sum(n), 0)::bigint, sum(v * n), sum(v * n) / sum(n),
                       (SELECT ARRAY[p50, p90, p99] FROM percentiles), min(v), max(v),
                       (SELECT count(*) FROM (
                           SELECT install_id FROM events WHERE {Base} AND name = @event AND duration_ms IS NOT NULL AND install_id IS NOT NULL
                           GROUP BY install_id) i)
                FROM histogram
                """;
            var summary = await QueryAsync(fromRollup, query, ReadNumeric, cancellationToken, extra: [new NpgsqlParameter<string>("event", eventName)]);
            return summary[0];
        }

        // DuckDB's TRY_CAST(json AS DOUBLE): numbers, booleans as 1/0, numeric strings; anything else is skipped.
        var sql = $$"""
            WITH j AS (
                SELECT install_id, duration_ms, properties #> @path AS j
                FROM events WHERE {{Base}} AND name = @event),
            v AS (
                SELECT CASE WHEN @duration THEN duration_ms ELSE
                           CASE jsonb_typeof(j)
                               WHEN 'number' THEN j::double precision
                               WHEN 'boolean' THEN CASE WHEN j::boolean THEN 1.0 ELSE 0.0 END
                               WHEN 'string' THEN CASE WHEN j #>> '{}' ~ '^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$'
                                                       THEN (j #>> '{}')::double precision END
                           END
                       END AS v, install_id
                FROM j)
            SELECT count(v), sum(v), avg(v), percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY v), min(v), max(v),
                   count(DISTINCT install_id)
            FROM v WHERE v IS NOT NULL
            """;
        var rows = await QueryAsync(sql, query, ReadNumeric, cancellationToken, extra:
        [
            new NpgsqlParameter<string>("event", eventName),
            new NpgsqlParameter<string[]>("path", property.Split('.')),
            new NpgsqlParameter<bool>("duration", property == EventConventions.DurationMs),
        ]);
        return rows[0];
    }

    private static NumericSummary ReadNumeric(DbDataReader r)
    {
        var p = r.IsDBNull(3) ? null : r.GetFieldValue<double?[]>(3);
        return new NumericSummary(r.GetInt64(0), D(r, 1), D(r, 2), p?[0], p?[1], p?[2], D(r, 4), D(r, 5), r.GetInt64(6));
    }
}
