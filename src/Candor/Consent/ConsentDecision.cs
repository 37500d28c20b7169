namespace Candor.Consent;

/// <summary>
/// The consent resolved for this process, before any event is recorded: the level, the identity
/// that level allows, and which source decided (shown by <c>telemetry status</c>).
/// </summary>
internal sealed record ConsentDecision(
    TelemetryLevel Level,
    string DecidedBy,
    Guid? InstallId = null,
    string? UserId = null,
    string? ProjectId = null);
