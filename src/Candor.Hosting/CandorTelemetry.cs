using Candor.Protocol;

namespace Candor.Hosting;

/// <summary>
/// A service's handle on Candor, a singleton in the container. Records events like
/// <see cref="CandorClient"/>, under the consent configuration allows now: when a configuration reload
/// lowers it, recording stops at once and what was queued and spooled is deleted. Never throws and
/// never waits on the network.
/// </summary>
public sealed class CandorTelemetry
{
    private volatile CandorClient? _client;

    /// <summary>Swaps the client the service records through (null: nothing is recorded).</summary>
    internal void Use(CandorClient? client) => _client = client;

    /// <summary>The level the service runs under now.</summary>
    public TelemetryLevel Level => _client?.Level ?? TelemetryLevel.Off;

    /// <summary>Whether <paramref name="part"/> is recorded now (its switch is on and consent allows
    /// sending). Cheap enough to ask on every request.</summary>
    public bool IsEnabled(TelemetryPart part) => _client is not null && part >= TelemetryPart.Lifecycle;

    /// <summary>Records a declared event (see <see cref="CandorClient.Track(string, ReadOnlySpan{EventProperty})"/>).</summary>
    public void Track(string name, params ReadOnlySpan<EventProperty> properties) => _client?.Track(name, properties);

    /// <summary>Starts timing a declared operation (see <see cref="CandorClient.StartOperation"/>).</summary>
    public TelemetryOperation? StartOperation(string name) => _client?.StartOperation(name);

    /// <summary>Records an error: its type and code, never its message (see <see cref="CandorClient.TrackError"/>).</summary>
    public void TrackError(Exception exception, string? errorCode = null, string eventName = EventConventions.ErrorEvent) =>
        _client?.TrackError(exception, errorCode, eventName);
}
