namespace Candor.Collector.Analytics;

/// <summary>
/// The "Services" view of a product: its instances (process runs, one <c>session_id</c> each), its
/// routes by use, error codes, client kinds, languages and where it runs. Every list is folded as
/// the other breakdowns are: a group seen from fewer than k installs is shown as "other".
/// <c>Events</c> counts the service events (install, startup, shutdown, request usage, request
/// errors) in the range: zero when the product is not a service, and the view has nothing to show;
/// <c>Installs</c>, the distinct installs that sent them.
/// </summary>
internal sealed record ServicesOverview(
    long Events,
    long Installs,
    ServiceInstances Instances,
    IReadOnlyList<RouteRow> Routes,
    IReadOnlyList<ServiceErrorRow> HttpErrors,
    IReadOnlyList<ServiceGroupRow> Errors,
    IReadOnlyList<ServiceGroupRow> Clients,
    IReadOnlyList<ServiceGroupRow> Languages,
    IReadOnlyList<ServiceGroupRow> Clouds,
    IReadOnlyList<ServiceGroupRow> Platforms,
    IReadOnlyList<ServiceGroupRow> ShutdownReasons);

/// <summary>
/// The instances of a service. <see cref="Live"/>: instances whose latest startup or heartbeat lies
/// within twice their heartbeat interval (15 minutes when none was announced) of the end of the
/// range, with no shutdown after it. <see cref="Started"/>: instances that sent a startup in the
/// range. Startup times are the percentiles of <c>startup_ms</c> over those startups; uptime is the
/// median over instances of their latest <c>uptime_s</c>. A figure computed from fewer than k
/// installs is left out (null), so it cannot describe one install. <see cref="LiveInstalls"/> and
/// <see cref="StartedInstalls"/>: the distinct installs of the live and of the started instances.
/// </summary>
internal sealed record ServiceInstances(
    DateTimeOffset AsOf, long Live, long Started, long Installs,
    double? StartupP50Ms, double? StartupP95Ms, double? UptimeP50Seconds, long LiveInstalls, long StartedInstalls);

/// <summary>
/// One route's use: the requests, server errors and error rate summed over every interval, and p50
/// and p95 read from the summed duration histogram as the upper bound (milliseconds) of the bucket
/// in which the cumulative share reaches 50 % (95 %), or <c>"&gt;10000"</c> for the overflow bucket.
/// The folded row has route "other" and no method.
/// </summary>
internal sealed record RouteRow(string Route, string? Method, long Requests, long Errors, double ErrorRate, long Installs, string? P50Ms, string? P95Ms);

/// <summary>Failed requests of one error code and status (<c>http_error</c>); the folded row has code "other" and no status.</summary>
internal sealed record ServiceErrorRow(string ErrorCode, long? Status, long Requests, long Installs);

/// <summary>One group of a service list: <see cref="Count"/> is requests for client kinds and
/// languages, events for errors and shutdown reasons, and instances for clouds and platforms.</summary>
internal sealed record ServiceGroupRow(string Label, long Count, long Installs);
