namespace Candor;

/// <summary>How a legacy environment variable switches telemetry.</summary>
public enum TelemetryAliasPolarity
{
    /// <summary>Any non-empty value turns telemetry off, e.g. <c>ACME_DISABLE_TELEMETRY=1</c>.</summary>
    OffWhenSet = 0,

    /// <summary><c>0</c>, <c>false</c>, <c>no</c> or <c>off</c> turns telemetry off and <c>1</c>,
    /// <c>true</c>, <c>yes</c> or <c>on</c> turns it on (anonymous), e.g. <c>ACME_ENABLE_TELEMETRY=0</c>.
    /// Other values are ignored with a warning.</summary>
    OnWhenTrue = 1,
}

/// <summary>A legacy environment variable the tool honoured before it used Candor. It ranks with the
/// tool's own variable (<c>ACME_TELEMETRY</c>); when several of them are set, the lowest level wins.</summary>
/// <param name="Name">The variable's name, e.g. <c>ACME_DISABLE_TELEMETRY</c>.</param>
/// <param name="Polarity">How its value is read.</param>
public sealed record TelemetryVariableAlias(string Name, TelemetryAliasPolarity Polarity);
