using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Candor.Hosting;

/// <summary>
/// Forwards the SDK's own diagnostics (the <c>Candor</c> EventSource: dropped events, failed deliveries,
/// spool activity) to the service's log, category <see cref="CandorTelemetry"/>: warnings and errors as
/// such, the rest at debug level. The EventSource is process-wide, so a process with several hosts logs
/// each diagnostic in each of them.
/// </summary>
internal sealed class CandorEventLogger : EventListener
{
    private const string SourceName = "Candor";

    private readonly ILogger? _logger;
    private EventSource? _created;

    public CandorEventLogger(ILogger logger)
    {
        _logger = logger;

        // The base constructor reports sources that exist already, before this constructor's body runs.
        if (_created is { } source)
        {
            EnableEvents(source, EventLevel.Informational);
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name != SourceName)
        {
            return;
        }

        if (_logger is null)
        {
            _created = eventSource;
            return;
        }

        EnableEvents(eventSource, EventLevel.Informational);
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (_logger is null || eventData.EventSource.Name != SourceName)
        {
            return;
        }

        var level = eventData.Level switch
        {
            EventLevel.Critical or EventLevel.Error => LogLevel.Error,
            EventLevel.Warning => LogLevel.Warning,
            _ => LogLevel.Debug,
        };
        if (!_logger.IsEnabled(level))
        {
            return;
        }

        var message = eventData.Message is { } format && eventData.Payload is { Count: > 0 } payload
            ? string.Format(CultureInfo.InvariantCulture, format, [.. payload])
            : eventData.Message ?? eventData.EventName ?? "";
        _logger.Log(level, new EventId(eventData.EventId, eventData.EventName), message, null, static (text, _) => text);
    }
}
