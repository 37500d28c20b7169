namespace Candor.Platform;

/// <summary>
/// Where a tool's telemetry files live. Settings (the user's choice, install id) go in the OS config
/// directory; the spool and transparency log go in the OS state directory, because they are
/// machine-local data, not settings.
/// </summary>
internal static class CandorDirectories
{
    /// <summary>The name of the user file and of the project file.</summary>
    public const string SettingsFileName = "telemetry.toml";

    /// <summary><c>$XDG_CONFIG_HOME/&lt;product&gt;</c> (default <c>~/.config/&lt;product&gt;</c>) on
    /// Linux, <c>%APPDATA%\&lt;product&gt;</c> on Windows,
    /// <c>~/Library/Application Support/&lt;product&gt;</c> on macOS.</summary>
    public static string ConfigDirectory(ICandorEnvironment environment, string product)
    {
        if (OperatingSystem.IsWindows())
        {
            return Path.Combine(environment.GetVariable("APPDATA") is { Length: > 0 } appData
                ? appData
                : Path.Combine(environment.HomeDirectory, "AppData", "Roaming"), product);
        }

        if (OperatingSystem.IsMacOS())
        {
            return Path.Combine(environment.HomeDirectory, "Library", "Application Support", product);
        }

        return Path.Combine(AbsoluteOr(environment.GetVariable("XDG_CONFIG_HOME"), Path.Combine(environment.HomeDirectory, ".config")), product);
    }

    /// <summary>The user file: <c>&lt;config directory&gt;/telemetry.toml</c>.</summary>
    public static string UserFile(ICandorEnvironment environment, string product) =>
        Path.Combine(ConfigDirectory(environment, product), SettingsFileName);

    /// <summary>The project file's path relative to a project's root: <c>.&lt;product&gt;/telemetry.toml</c>.</summary>
    public static string ProjectFileRelativePath(string product) => Path.Combine("." + product, SettingsFileName);

    /// <summary><c>$XDG_STATE_HOME/&lt;product&gt;/telemetry</c> (default
    /// <c>~/.local/state/&lt;product&gt;/telemetry</c>) on Linux, <c>%LOCALAPPDATA%\&lt;product&gt;\telemetry</c>
    /// on Windows, <c>~/Library/Application Support/&lt;product&gt;/telemetry</c> on macOS.</summary>
    public static string StateDirectory(ICandorEnvironment environment, string product)
    {
        if (OperatingSystem.IsWindows())
        {
            return Path.Combine(environment.GetVariable("LOCALAPPDATA") is { Length: > 0 } localAppData
                ? localAppData
                : Path.Combine(environment.HomeDirectory, "AppData", "Local"), product, "telemetry");
        }

        if (OperatingSystem.IsMacOS())
        {
            return Path.Combine(environment.HomeDirectory, "Library", "Application Support", product, "telemetry");
        }

        return Path.Combine(AbsoluteOr(environment.GetVariable("XDG_STATE_HOME"), Path.Combine(environment.HomeDirectory, ".local", "state")), product, "telemetry");
    }

    /// <summary>Events waiting to be sent: <c>&lt;state directory&gt;/spool/</c>.</summary>
    public static string SpoolDirectory(ICandorEnvironment environment, string product) =>
        Path.Combine(StateDirectory(environment, product), "spool");

    /// <summary>Every recorded event, one JSON object a line: <c>&lt;state directory&gt;/transparency.jsonl</c>.</summary>
    public static string TransparencyLog(ICandorEnvironment environment, string product) =>
        Path.Combine(StateDirectory(environment, product), "transparency.jsonl");

    // The XDG spec says relative values are invalid and must be ignored.
    private static string AbsoluteOr(string? value, string fallback) =>
        !string.IsNullOrWhiteSpace(value) && Path.IsPathRooted(value) ? value : fallback;
}
