using Candor.Protocol;

namespace Candor.Hosting;

/// <summary>
/// A service's handle on Candor, a singleton in the container. Records events like
/// <see cref="CandorClient"/>, under the consent configuration allows now: when a configuration reload
/// lowers it, recording stops at once and what was queued and spooled is deleted. Never throws and
/// never waits on the network.
/// </summary>
/// <remarks>Under <c>local</c> the parts are enabled and events go to the transparency log only.</remarks>
public sealed class CandorTelemetry
{
    private const int AllParts = (1 << (int)TelemetryPart.Lifecycle) | (1 << (int)TelemetryPart.HttpUsage) | (1 << (int)TelemetryPart.Errors);

    // The client and the parts it records, swapped as one object so a reader never sees the parts of one
    // and the client of another.
    private volatile Current? _current;

    private sealed class Current(CandorClient client, int parts)
    {
        public readonly CandorClient Client = client;
        public readonly int Parts = parts;
    }

    /// <summary>Swaps the client the service records through, every part on (null: nothing is recorded).</summary>
    internal void Use(CandorClient? client) => Use(client, AllParts);

    /// <summary>Swaps the client and the parts it records (one bit per <see cref="TelemetryPart"/>).</summary>
    internal void Use(CandorClient? client, int parts) => _current = client is null ? null : new Current(client, parts);

    /// <summary>The client recorded through now, if any.</summary>
    internal CandorClient? Client => _current?.Client;

    /// <summary>The level the service runs under now.</summary>
    public TelemetryLevel Level => _current?.Client.Level ?? TelemetryLevel.Off;

    /// <summary>Whether <paramref name="part"/> is recorded now (its switch is on and consent allows
    /// recording). Cheap enough to ask on every request: one field read.</summary>
    public bool IsEnabled(TelemetryPart part) => _current is { } current && (current.Parts & (1 << (int)part)) != 0;

    /// <summary>Records a declared event (see <see cref="CandorClient.Track(string, ReadOnlySpan{EventProperty})"/>).</summary>
    public void Track(string name, params ReadOnlySpan<EventProperty> properties) => _current?.Client.Track(name, properties);

    /// <summary>Starts timing a declared operation (see <see cref="CandorClient.StartOperation"/>).</summary>
    public TelemetryOperation? StartOperation(string name) => _current?.Client.StartOperation(name);

    /// <summary>Records an error: its type and code, never its message (see <see cref="CandorClient.TrackError"/>).
    /// Nothing when the <see cref="TelemetryPart.Errors"/> part is off.</summary>
    public void TrackError(Exception exception, string? errorCode = null, string eventName = EventConventions.ErrorEvent)
    {
        if (_current is { } current && (current.Parts & (1 << (int)TelemetryPart.Errors)) != 0)
        {
            current.Client.TrackError(exception, errorCode, eventName);
        }
    }
}
