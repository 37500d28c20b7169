using Candor.Platform;

namespace Candor.Consent;

/// <summary>What a service's environment says about consent, read once when it starts: variables are
/// fixed for the life of a process, while configuration may be reloaded.</summary>
/// <param name="DoNotTrack">Whether <c>DO_NOT_TRACK</c> asks for off.</param>
/// <param name="ToolLevel">The level the tool variable gives, or none (unset or an unknown value).</param>
/// <param name="ToolVariable">The tool variable's name, e.g. <c>ACME_SERVER_TELEMETRY</c>.</param>
/// <param name="Problem">An ignored value, in words for the log.</param>
internal sealed record ServiceVariables(bool DoNotTrack, TelemetryLevel? ToolLevel, string ToolVariable, string? Problem);

/// <summary>The install id a service sends, and whether it outlives the process.</summary>
/// <param name="InstallId">The id.</param>
/// <param name="InitialVersion">The first version that ran with it; none for a per-process id.</param>
/// <param name="Created">Whether it was made by this process (the service then records <c>install</c>).</param>
/// <param name="PerProcess">Whether it lives only as long as the process (the state directory is not writable).</param>
/// <param name="Problem">Why the state directory could not be used, in words for the log.</param>
internal sealed record ServiceIdentity(Guid InstallId, string? InitialVersion, bool Created, bool PerProcess, string? Problem);

/// <summary>
/// Consent for a long-running service: no prompt, no notice on standard error, no user file in a home
/// directory. Sources, strongest first: <c>DO_NOT_TRACK</c>; the tool variable; the level in the service's
/// configuration (which may be reloaded); the author's default policy (opt-in: off, opt-out: anonymous).
/// Nothing here writes to standard error or standard output: the caller logs.
/// </summary>
internal static class ServiceConsent
{
    public const string ConfigurationSource = "configuration";

    /// <summary>The file in the state directory that keeps the install id and its initial version, in the
    /// format of a tool's user file.</summary>
    public const string IdentityFileName = CandorDirectories.SettingsFileName;

    /// <summary>Reads the variables; called once, when the service starts.</summary>
    public static ServiceVariables ReadVariables(ICandorEnvironment environment, string toolVariable)
    {
        var doNotTrack = LevelNames.IsDoNotTrack(environment.GetVariable(ConsentResolver.DoNotTrack));
        var value = environment.GetVariable(toolVariable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return new ServiceVariables(doNotTrack, null, toolVariable, null);
        }

        var level = LevelNames.ParseToolVariable(value);
        return new ServiceVariables(doNotTrack, level, toolVariable, level is null
            ? $"{toolVariable}='{value}' is ignored: expected off, local, anonymous, identified, 0, 1, false or true."
            : null);
    }

    /// <summary>A level as an operator writes it in configuration: a level name, <c>on</c>/<c>true</c>/<c>1</c>
    /// (anonymous) or <c>off</c>/<c>false</c>/<c>0</c>. Null when empty or unknown.</summary>
    public static TelemetryLevel? ParseConfigured(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null
        : LevelNames.ParseLevel(value) ?? LevelNames.ParseSwitch(value) switch
        {
            true => TelemetryLevel.Anonymous,
            false => TelemetryLevel.Off,
            null => null,
        };

    /// <summary>Whether a configured level is empty (no choice) or one <see cref="ParseConfigured"/> reads.</summary>
    public static bool IsValidConfigured(string? value) => string.IsNullOrWhiteSpace(value) || ParseConfigured(value) is not null;

    /// <summary>The level and the source that decided it. A service has no user id to send, so
    /// <c>identified</c> runs as anonymous.</summary>
    public static (TelemetryLevel Level, string DecidedBy) Decide(ServiceVariables variables, string? configured, ConsentPolicy policy)
    {
        var (level, source) =
            variables.DoNotTrack ? (TelemetryLevel.Off, ConsentResolver.DoNotTrack)
            : variables.ToolLevel is { } tool ? (tool, variables.ToolVariable)
            : ParseConfigured(configured) is { } chosen ? (chosen, ConfigurationSource)
            : policy == ConsentPolicy.OptOut ? (TelemetryLevel.Anonymous, ConsentResolver.PolicySource)
            : (TelemetryLevel.Off, ConsentResolver.PolicySource);
        return (level > TelemetryLevel.Anonymous ? TelemetryLevel.Anonymous : level, source);
    }

    /// <summary>
    /// The install id kept in <paramref name="stateDirectory"/> (made now, with <paramref name="version"/> as its
    /// initial version, when there is none). When the directory cannot be created or written (a read-only
    /// container), a random id for this process only; nothing is kept then. Never throws.
    /// </summary>
    public static ServiceIdentity ResolveIdentity(string stateDirectory, string? version)
    {
        try
        {
            var created = false;
            var file = new UserSettingsFile(Path.Combine(stateDirectory, IdentityFileName));
            var (settings, problem) = file.Update(current =>
            {
                if (current.InstallId is not null)
                {
                    return current.WithInitialVersion(version);
                }

                created = true;
                return current.WithNewInstallId(version);
            });
            if (settings?.InstallId is not { } installId)
            {
                return PerProcess(problem ?? $"'{stateDirectory}' holds no usable install id");
            }

            // An existing id in a directory that has become read-only: the spool and the log could not be
            // kept either, so the instance runs as if it had no directory.
            if (WriteProblem(stateDirectory) is { } writeProblem)
            {
                return PerProcess(writeProblem);
            }

            return new ServiceIdentity(installId, settings.InitialVersion, created, PerProcess: false, null);
        }
#pragma warning disable CA1031 // Whatever the file system does, the service runs (with a per-process id).
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return PerProcess($"'{stateDirectory}' cannot be used: {ex.GetType().Name}");
        }
    }

    private static ServiceIdentity PerProcess(string problem) => new(Guid.NewGuid(), null, Created: false, PerProcess: true, problem);

    private static string? WriteProblem(string directory)
    {
        var probe = Path.Combine(directory, ".write-probe-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }

            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"'{directory}' is not writable: {ex.Message}";
        }
    }
}
