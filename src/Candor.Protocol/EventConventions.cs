namespace Candor.Protocol;

/// <summary>
/// The names of the events and properties the SDK records by convention (command runs, operations,
/// errors, heartbeats) and the collector reads for its analytics. Defined once, here, so the client
/// and the collector cannot drift apart.
/// </summary>
public static class EventConventions
{
    /// <summary>The event a command-line tool records for each command run.</summary>
    public const string CommandEvent = "command";

    /// <summary>The event that names an operation in its <see cref="OperationProperty"/>.</summary>
    public const string OperationEvent = "operation";

    /// <summary>The event recorded for a failure.</summary>
    public const string ErrorEvent = "error";

    /// <summary>The event a long-running instance records periodically while it runs.</summary>
    public const string HeartbeatEvent = "heartbeat";

    /// <summary>The command path of a <see cref="CommandEvent"/>, e.g. <c>run</c>.</summary>
    public const string CommandProperty = "command";

    /// <summary>The operation's name in an <see cref="OperationEvent"/>.</summary>
    public const string OperationProperty = "operation";

    /// <summary>How long a command or an operation took, in milliseconds (an integer).</summary>
    public const string DurationMs = "duration_ms";

    /// <summary>How an operation ended: <see cref="OutcomeSuccess"/> or <see cref="OutcomeFailure"/>.</summary>
    public const string Outcome = "outcome";

    /// <summary>The <see cref="Outcome"/> of an operation that succeeded.</summary>
    public const string OutcomeSuccess = "success";

    /// <summary>The <see cref="Outcome"/> of an operation that failed.</summary>
    public const string OutcomeFailure = "failure";

    /// <summary>A command's exit code (an integer; non-zero is a failure).</summary>
    public const string ExitCode = "exit_code";

    /// <summary>A stable, machine-readable code of a failure, never its message.</summary>
    public const string ErrorCode = "error_code";

    /// <summary>The type of the exception behind a failure, e.g. <c>IOException</c>.</summary>
    public const string ErrorType = "error_type";

    /// <summary>A service's first start with a new install id (recorded once per install).</summary>
    public const string InstallEvent = "install";

    /// <summary>A service is ready: carries <see cref="StartupMs"/>.</summary>
    public const string StartupEvent = "startup";

    /// <summary>A service is stopping: carries <see cref="UptimeSeconds"/> and <see cref="ShutdownReason"/>.</summary>
    public const string ShutdownEvent = "shutdown";

    /// <summary>One route's requests over one interval: <see cref="Route"/>, <see cref="Method"/>,
    /// <see cref="StatusClass"/>, <see cref="RequestCount"/>, <see cref="RequestErrors"/>,
    /// <see cref="DurationSumMs"/> and the duration histogram (<see cref="DurationBuckets"/>).</summary>
    public const string HttpRequestsEvent = "http_requests";

    /// <summary>Requests of one client kind and language over one interval: <see cref="ClientKind"/>,
    /// <see cref="Language"/>, <see cref="RequestCount"/>.</summary>
    public const string HttpClientsEvent = "http_clients";

    /// <summary>Failed requests of one route, status and error over one interval: <see cref="Route"/>,
    /// <see cref="Method"/>, <see cref="Status"/>, <see cref="ErrorType"/> (unhandled exceptions only),
    /// <see cref="ErrorCode"/> and <see cref="RequestCount"/>.</summary>
    public const string HttpErrorEvent = "http_error";

    /// <summary>Milliseconds from process start until the service was ready (an integer).</summary>
    public const string StartupMs = "startup_ms";

    /// <summary>Seconds since the service became ready (an integer).</summary>
    public const string UptimeSeconds = "uptime_s";

    /// <summary>The heartbeat interval in seconds (an integer), so the collector knows when an instance
    /// that stopped sending is gone.</summary>
    public const string HeartbeatIntervalSeconds = "interval_s";

    /// <summary>Why a service stopped: <c>stopped</c> (the host was asked to stop, e.g. SIGTERM) or
    /// <c>failed</c> (the host stopped because of an error).</summary>
    public const string ShutdownReason = "reason";

    /// <summary>The route template, never the path: <c>/items/{id}</c>; <c>(unmatched)</c> when no
    /// endpoint matched.</summary>
    public const string Route = "route";

    /// <summary>The HTTP method, e.g. <c>GET</c>.</summary>
    public const string Method = "method";

    /// <summary>The status class: <c>1xx</c> to <c>5xx</c>.</summary>
    public const string StatusClass = "status_class";

    /// <summary>An HTTP status code (an integer).</summary>
    public const string Status = "status";

    /// <summary>How many requests an aggregate counts (an integer).</summary>
    public const string RequestCount = "count";

    /// <summary>How many of them failed on the server: status 500 or above, or an unhandled exception (an integer).</summary>
    public const string RequestErrors = "errors";

    /// <summary>The sum of their durations in milliseconds (an integer).</summary>
    public const string DurationSumMs = "duration_sum_ms";

    /// <summary>The duration histogram: property <c>d_le_&lt;ms&gt;</c> counts requests that took at most that many
    /// milliseconds and more than the previous bound; <see cref="DurationOverflow"/> counts the rest.
    /// Percentiles (p50, p95) are read from the summed buckets.</summary>
    public static readonly IReadOnlyList<int> DurationBuckets = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

    /// <summary>The property of the histogram bucket that ends at <paramref name="upperMs"/> milliseconds.</summary>
    public static string DurationBucket(int upperMs) => "d_le_" + upperMs.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The histogram bucket of requests longer than the last bound.</summary>
    public const string DurationOverflow = "d_gt_10000";

    /// <summary>The client kind: the first product token of <c>User-Agent</c> with its major version
    /// (<c>curl/8</c>, <c>python-requests/2</c>), a browser family (<c>chrome</c>, <c>firefox</c>, <c>safari</c>,
    /// <c>edge</c>), <c>none</c> or <c>other</c>.</summary>
    public const string ClientKind = "client";

    /// <summary>The primary subtag of the first <c>Accept-Language</c> entry (<c>en</c>), <c>none</c> or <c>other</c>.</summary>
    public const string Language = "language";
}
