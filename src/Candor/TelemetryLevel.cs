namespace Candor;

/// <summary>How much telemetry the user allows, from least to most.</summary>
public enum TelemetryLevel
{
    /// <summary>Nothing is recorded, written or sent; no background thread is started.</summary>
    Off = 0,

    /// <summary>Events are recorded to the local transparency log only, never sent.</summary>
    Local = 1,

    /// <summary>Events are sent with a random install id and no personal identifier.</summary>
    Anonymous = 2,

    /// <summary>Events are sent with the install id and the id the user chose to provide.</summary>
    Identified = 3,
}
