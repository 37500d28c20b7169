using Candor.Protocol;

namespace Candor.Collector.Analytics;

/// <summary>
/// The few properties analytics reads on every dashboard load, lifted out of the event's property
/// bag into typed columns when it is stored, so queries scan compact columns instead of parsing
/// JSON. They follow the SDK's conventions for command, operation and error events.
/// </summary>
internal readonly record struct AnalyticsFields(string? Subject, double? DurationMs, bool? Failed, string? ErrorCode)
{
    public const string CommandEvent = "command";
    public const string OperationEvent = "operation";
    public const string ErrorEvent = "error";
    public const string HeartbeatEvent = "heartbeat";

    /// <summary>Which stored events are command runs (a SQL condition over the typed columns).</summary>
    public const string CommandRunSql = "name = 'command'";

    /// <summary>Which stored events are operation runs: events named <c>operation</c> (subject from
    /// their <c>operation</c> property), and events recorded by the SDK's <c>StartOperation</c>, which
    /// are named after the operation and carry an <c>outcome</c> (subject: the event's name).</summary>
    public const string OperationRunSql = "(name = 'operation' OR (subject IS NOT NULL AND name <> 'command' AND name <> 'error'))";

    public static AnalyticsFields Derive(TelemetryEvent telemetryEvent)
    {
        var properties = telemetryEvent.Properties;
        if (properties is null || properties.Count == 0)
        {
            return telemetryEvent.Name == ErrorEvent ? new(null, null, true, null) : default;
        }

        string? Text(string key) => properties.TryGetValue(key, out var v) && v.Kind == PropertyKind.String ? v.AsString : null;
        double? Number(string key) => properties.TryGetValue(key, out var v) && v.Kind is PropertyKind.Integer or PropertyKind.Number ? v.AsNumber : null;

        var errorCode = Text("error_code");
        return telemetryEvent.Name switch
        {
            CommandEvent => new(Text("command"), Number("duration_ms"),
                Number("exit_code") is { } exit ? exit != 0 : errorCode is not null ? true : null, errorCode),
            OperationEvent => new(Text("operation"), Number("duration_ms"),
                Text("outcome") is { } outcome ? !string.Equals(outcome, "success", StringComparison.Ordinal) : errorCode is not null ? true : null, errorCode),
            ErrorEvent => new(Text("error_type"), null, true, errorCode),
            _ when Text("outcome") is { } outcome => new(telemetryEvent.Name, Number("duration_ms"),
                !string.Equals(outcome, "success", StringComparison.Ordinal), errorCode),
            _ => new(null, Number("duration_ms"), null, errorCode),
        };
    }
}
