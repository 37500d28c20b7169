using Candor.Hosting;

namespace Candor.AspNetCore;

/// <summary>Where request usage goes: the seam between the aggregation and <see cref="CandorTelemetry"/>,
/// so tests and benchmarks can record into a fake.</summary>
internal interface IHttpUsageSink
{
    /// <summary>Whether <paramref name="part"/> is recorded now (asked on every request).</summary>
    bool IsEnabled(TelemetryPart part);

    /// <summary>Records one aggregate event.</summary>
    void Track(string name, params ReadOnlySpan<EventProperty> properties);
}

/// <summary>Records through the service's <see cref="CandorTelemetry"/>; records nothing when the
/// service did not add Candor (no <see cref="CandorTelemetry"/> in the container).</summary>
internal sealed class CandorTelemetrySink(CandorTelemetry? telemetry) : IHttpUsageSink
{
    public bool IsEnabled(TelemetryPart part) => telemetry?.IsEnabled(part) ?? false;

    public void Track(string name, params ReadOnlySpan<EventProperty> properties) => telemetry?.Track(name, properties);
}
