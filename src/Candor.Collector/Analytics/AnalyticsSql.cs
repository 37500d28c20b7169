namespace Candor.Collector.Analytics;

/// <summary>
/// The SQL fragments both analytics stores share: the whitelisted dimension map (a dimension's
/// key expression and the rows it applies to) and the date_trunc part of an interval. Both DuckDB
/// and PostgreSQL accept this spelling.
/// </summary>
internal static class AnalyticsSql
{
    public static (string Key, string Where) DimensionKey(Dimension dimension) => dimension switch
    {
        Dimension.EventName => ("name", "TRUE"),
        Dimension.Command => ("subject", "name = 'command'"),
        Dimension.Version => ("product_version", "TRUE"),
        Dimension.InitialVersion => ("initial_version", "TRUE"),
        Dimension.OsFamily => ("os_family", "TRUE"),
        Dimension.OsVersion => ("os_version", "TRUE"),
        Dimension.Runtime => ("runtime_version", "TRUE"),
        Dimension.Architecture => ("architecture", "TRUE"),
        Dimension.CiName => ("CASE WHEN ci THEN coalesce(ci_name, 'generic') ELSE 'none' END", "TRUE"),
        Dimension.Country => ("country", "TRUE"),
        Dimension.Region => ("CASE WHEN region IS NULL THEN NULL ELSE coalesce(country, '?') || '/' || region END", "TRUE"),
        Dimension.ErrorCode => ("error_code", "error_code IS NOT NULL"),
        _ => throw new ArgumentOutOfRangeException(nameof(dimension)),
    };

    /// <summary>
    /// CTEs that turn <paramref name="histogram"/> (rows of label, v, n: n runs of label took v)
    /// into <c>percentiles</c> (label, p50, p95) with exactly percentile_cont's answer: the values at
    /// ranks floor(h) and ceil(h), h = p·(count − 1), interpolated. Durations are whole milliseconds,
    /// so a label has far fewer distinct values than runs, and counting them is much cheaper than
    /// sorting every run (measured on DuckDB at 10M events: 85 ms against 190).
    /// </summary>
    public static string HistogramPercentiles(string histogram) => $"""
        cumulative AS (
            SELECT label, v, sum(n) OVER (PARTITION BY label ORDER BY v) AS below, sum(n) OVER (PARTITION BY label) - 1 AS m
            FROM {histogram}),
        ranks AS (
            SELECT label, CAST(m AS float8) * 0.5 AS h50, CAST(m AS float8) * 0.95 AS h95,
                   min(v) FILTER (WHERE below > floor(CAST(m AS float8) * 0.5)) AS lo50,
                   min(v) FILTER (WHERE below > ceil(CAST(m AS float8) * 0.5)) AS hi50,
                   min(v) FILTER (WHERE below > floor(CAST(m AS float8) * 0.95)) AS lo95,
                   min(v) FILTER (WHERE below > ceil(CAST(m AS float8) * 0.95)) AS hi95
            FROM cumulative GROUP BY label, m),
        percentiles AS (
            SELECT label, lo50 + (hi50 - lo50) * (h50 - floor(h50)) AS p50, lo95 + (hi95 - lo95) * (h95 - floor(h95)) AS p95
            FROM ranks)
        """;

    public static string Part(Interval interval) => interval switch
    {
        Interval.Day => "day",
        Interval.Week => "week",
        Interval.Month => "month",
        _ => throw new ArgumentOutOfRangeException(nameof(interval)),
    };
}
