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

    public static string Part(Interval interval) => interval switch
    {
        Interval.Day => "day",
        Interval.Week => "week",
        Interval.Month => "month",
        _ => throw new ArgumentOutOfRangeException(nameof(interval)),
    };
}
