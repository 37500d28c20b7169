using Candor.Protocol;

namespace Candor.Collector.Storage;

/// <summary>
/// The few properties analytics reads on every dashboard load, lifted out of the event's property
/// bag into typed columns when it is stored, so queries scan compact columns instead of parsing
/// JSON. They follow the SDK's conventions for command, operation and error events.
/// </summary>
internal readonly record struct AnalyticsFields(string? Subject, double? DurationMs, bool? Failed, string? ErrorCode)
{
    public const string CommandEvent = EventConventions.CommandEvent;
    public const string OperationEvent = EventConventions.OperationEvent;
    public const string ErrorEvent = EventConventions.ErrorEvent;
    public const string HeartbeatEvent = EventConventions.HeartbeatEvent;

    /// <summary>Which stored events are command runs (a SQL condition over the typed columns).</summary>
    public const string CommandRunSql = $"name = '{CommandEvent}'";

    /// <summary>Which stored events are operation runs: events named <c>operation</c> (subject from
    /// their <c>operation</c> property), and events recorded by the SDK's <c>StartOperation</c>, which
    /// are named after the operation and carry an <c>outcome</c> (subject: the event's name).</summary>
    public const string OperationRunSql = $"(name = '{OperationEvent}' OR (subject IS NOT NULL AND name <> '{CommandEvent}' AND name <> '{ErrorEvent}'))";

    public static AnalyticsFields Derive(TelemetryEvent telemetryEvent)
    {
        var properties = telemetryEvent.Properties;
        if (properties is null || properties.Count == 0)
        {
            return telemetryEvent.Name == ErrorEvent ? new(null, null, true, null) : default;
        }

        string? Text(string key) => properties.TryGetValue(key, out var v) && v.Kind == PropertyKind.String ? v.AsString : null;
        double? Number(string key) => properties.TryGetValue(key, out var v) && v.Kind is PropertyKind.Integer or PropertyKind.Number ? v.AsNumber : null;

        var errorCode = Text(EventConventions.ErrorCode);
        return telemetryEvent.Name switch
        {
            CommandEvent => new(Text(EventConventions.CommandProperty), Number(EventConventions.DurationMs),
                Number(EventConventions.ExitCode) is { } exit ? exit != 0 : errorCode is not null ? true : null, errorCode),
            OperationEvent => new(Text(EventConventions.OperationProperty), Number(EventConventions.DurationMs),
                Text(EventConventions.Outcome) is { } outcome ? !string.Equals(outcome, EventConventions.OutcomeSuccess, StringComparison.Ordinal) : errorCode is not null ? true : null, errorCode),
            ErrorEvent => new(Text(EventConventions.ErrorType), null, true, errorCode),
            _ when Text(EventConventions.Outcome) is { } outcome => new(telemetryEvent.Name, Number(EventConventions.DurationMs),
                !string.Equals(outcome, EventConventions.OutcomeSuccess, StringComparison.Ordinal), errorCode),
            _ => new(null, Number(EventConventions.DurationMs), null, errorCode),
        };
    }
}
