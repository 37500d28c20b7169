namespace Candor.Hosting;

/// <summary>The parts of a service's telemetry, each of which can be turned off on its own.</summary>
public enum TelemetryPart
{
    /// <summary><c>install</c>, <c>startup</c>, <c>heartbeat</c> and <c>shutdown</c>.</summary>
    Lifecycle,

    /// <summary>Per-route request usage and client kinds (<c>http_requests</c>, <c>http_clients</c>).</summary>
    HttpUsage,

    /// <summary>Failed requests and errors (<c>http_error</c>, <c>error</c>).</summary>
    Errors,
}
