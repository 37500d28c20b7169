using Candor.Hosting;
using Candor.Protocol;

namespace Candor.AspNetCore.Tests;

/// <summary>Records what the middleware's aggregates would send, with each part's switch settable.</summary>
internal sealed class FakeUsageSink : IHttpUsageSink
{
    private readonly Lock _gate = new();
    private readonly List<RecordedEvent> _events = [];

    public bool HttpUsage { get; set; } = true;

    public bool Errors { get; set; } = true;

    public IReadOnlyList<RecordedEvent> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    public IReadOnlyList<RecordedEvent> Named(string name) => [.. Events.Where(e => e.Name == name)];

    public bool IsEnabled(TelemetryPart part) => part switch
    {
        TelemetryPart.HttpUsage => HttpUsage,
        TelemetryPart.Errors => Errors,
        _ => false,
    };

    public void Track(string name, params ReadOnlySpan<EventProperty> properties)
    {
        var recorded = new RecordedEvent(name, properties.ToArray().ToDictionary(p => p.Name, p => p.Value));
        lock (_gate)
        {
            _events.Add(recorded);
        }
    }
}

internal sealed record RecordedEvent(string Name, IReadOnlyDictionary<string, PropertyValue> Properties)
{
    public string? String(string property) => Properties[property].AsString;

    public long Integer(string property) => Properties[property].AsInteger;

    /// <summary>The sum of the duration histogram's buckets.</summary>
    public long HistogramSum =>
        EventConventions.DurationBuckets.Sum(b => Integer(EventConventions.DurationBucket(b))) + Integer(EventConventions.DurationOverflow);

    public override string ToString() => Name + " " + string.Join(", ", Properties.Select(p => $"{p.Key}={p.Value}"));
}
