namespace Candor;

/// <summary>What a tool does when the user has not chosen a telemetry level yet.</summary>
public enum ConsentPolicy
{
    /// <summary>Off until the user enables telemetry (for example with <c>telemetry enable</c>).</summary>
    OptIn = 0,

    /// <summary>The first run prints the notice to standard error and sends nothing; later runs are
    /// <see cref="TelemetryLevel.Anonymous"/> unless the user opts out.</summary>
    OptOut = 1,

    /// <summary>The first interactive run asks the user to choose a level. Without a terminal, or under
    /// CI, nothing is asked and the run is off; the question waits for the next interactive run.</summary>
    Prompt = 2,
}
