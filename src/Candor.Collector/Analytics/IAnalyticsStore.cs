namespace Candor.Collector.Analytics;

/// <summary>The breakdowns the analytics API offers, each a fixed, whitelisted column or expression.</summary>
internal enum Dimension
{
    EventName,
    Command,
    Version,
    InitialVersion,
    OsFamily,
    OsVersion,
    Runtime,
    Architecture,
    CiName,
    Country,
    Region,
    ErrorCode,
    Cloud,
    CloudPlatform,
    CloudRegion,
    Container,
}

/// <summary>
/// The questions tool authors ask, answered by a store. Every answer that groups installs applies
/// k-anonymity: a group with fewer than <c>k</c> distinct installs is folded into "other".
/// </summary>
internal interface IAnalyticsStore : IDisposable
{
    Task<IReadOnlyList<string>> ProductsAsync(CancellationToken cancellationToken);

    Task<Summary> SummaryAsync(AnalyticsQuery query, CancellationToken cancellationToken);

    Task<IReadOnlyList<SeriesPoint>> ActiveInstallsAsync(AnalyticsQuery query, Interval interval, CancellationToken cancellationToken);

    Task<IReadOnlyList<SeriesPoint>> NewInstallsAsync(AnalyticsQuery query, Interval interval, CancellationToken cancellationToken);

    Task<RetentionFigures> RetentionAsync(AnalyticsQuery query, DateTimeOffset asOf, CancellationToken cancellationToken);

    Task<IReadOnlyList<InstallActivity>> InstallsAsync(AnalyticsQuery query, int limit, CancellationToken cancellationToken);

    Task<IReadOnlyList<BreakdownRow>> BreakdownAsync(AnalyticsQuery query, Dimension dimension, int k, CancellationToken cancellationToken);

    Task<IReadOnlyList<SeriesBreakdownPoint>> VersionAdoptionAsync(AnalyticsQuery query, Interval interval, int k, CancellationToken cancellationToken);

    Task<IReadOnlyList<CommandRow>> CommandsAsync(AnalyticsQuery query, int k, CancellationToken cancellationToken);

    Task<IReadOnlyList<CommandRow>> OperationsAsync(AnalyticsQuery query, int k, CancellationToken cancellationToken);

    Task<NumericSummary> NumericAsync(AnalyticsQuery query, string eventName, string property, CancellationToken cancellationToken);

    Task<LiveInstances> LiveAsync(string product, DateTimeOffset since, int k, CancellationToken cancellationToken);

    /// <summary>The "Services" view: instances, routes, error codes, clients, languages, clouds.
    /// Live instances are judged as of the end of the range, so callers end it no later than now.</summary>
    Task<ServicesOverview> ServicesAsync(AnalyticsQuery query, int k, CancellationToken cancellationToken);
}
