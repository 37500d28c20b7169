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
    string? ProjectId = null)
{
    /// <summary>Why the deciding source gave this level, in words for <c>telemetry status</c>.</summary>
    public string Reason { get; init; } = "";

    /// <summary>Every source, strongest first, with its value and what it said.</summary>
    public IReadOnlyList<ConsentSource> Sources { get; init; } = [];

    /// <summary>The user answered <c>q</c> at the first-run question; the host decides what that means.
    /// The level is <see cref="TelemetryLevel.Off"/> and nothing was saved.</summary>
    public bool QuitRequested { get; init; }

    /// <summary>Problems that turned this run off or were ignored (unreadable files, unknown values).</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    /// <summary>The user file's path (whether or not it exists).</summary>
    public string UserFilePath { get; init; } = "";

    /// <summary>The project file found from the working directory upwards, or <see langword="null"/>.</summary>
    public string? ProjectFilePath { get; init; }

    /// <summary>The first version of the tool this install ran, sent with the install id; <see langword="null"/>
    /// when there is no install id or it could not be recorded.</summary>
    public string? InitialVersion { get; init; }

    /// <summary>The notice version the user has seen (0 when none).</summary>
    public int NoticeVersionSeen { get; init; }

    /// <summary>The install id lives only as long as this process (a service whose state directory is not
    /// writable); sent in the context so that its installs are not counted as new ones.</summary>
    public bool InstallIdPerProcess { get; init; }
}

/// <summary>One consent source as <c>telemetry status</c> shows it.</summary>
/// <param name="Name">The source, e.g. <c>DO_NOT_TRACK</c> or <c>user file</c>.</param>
/// <param name="Value">Its raw value, or <c>(unset)</c>.</param>
/// <param name="Effect">What it says about the level, e.g. <c>off</c> or <c>ignored: unknown value</c>.</param>
/// <param name="Decided">Whether it decided the effective level.</param>
internal sealed record ConsentSource(string Name, string Value, string Effect, bool Decided = false);
