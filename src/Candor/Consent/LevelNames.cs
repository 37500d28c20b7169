namespace Candor.Consent;

/// <summary>Reads and writes telemetry levels and switch values the way users type them.</summary>
internal static class LevelNames
{
    public static string Name(TelemetryLevel level) => level switch
    {
        TelemetryLevel.Off => "off",
        TelemetryLevel.Local => "local",
        TelemetryLevel.Anonymous => "anonymous",
        TelemetryLevel.Identified => "identified",
        _ => "off",
    };

    /// <summary>A level name (<c>off</c>, <c>local</c>, <c>anonymous</c>, <c>identified</c>), trimmed and
    /// case-insensitive.</summary>
    public static TelemetryLevel? ParseLevel(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "off" => TelemetryLevel.Off,
        "local" => TelemetryLevel.Local,
        "anonymous" => TelemetryLevel.Anonymous,
        "identified" => TelemetryLevel.Identified,
        _ => null,
    };

    /// <summary>The tool variable: a level name, or <c>0</c>/<c>false</c> (off), <c>1</c>/<c>true</c> (anonymous).</summary>
    public static TelemetryLevel? ParseToolVariable(string value) => ParseLevel(value) ?? value.Trim().ToLowerInvariant() switch
    {
        "0" or "false" => TelemetryLevel.Off,
        "1" or "true" => TelemetryLevel.Anonymous,
        _ => null,
    };

    /// <summary>A yes/no switch: <see langword="true"/>, <see langword="false"/> or <see langword="null"/>
    /// when the value is neither.</summary>
    public static bool? ParseSwitch(string value) => value.Trim().ToLowerInvariant() switch
    {
        "1" or "true" or "yes" or "on" => true,
        "0" or "false" or "no" or "off" => false,
        _ => null,
    };

    /// <summary><c>DO_NOT_TRACK</c> asks for off when set to any non-empty value other than <c>0</c> or
    /// <c>false</c> (trimmed, case-insensitive).</summary>
    public static bool IsDoNotTrack(string? value)
    {
        var trimmed = value?.Trim();
        return !string.IsNullOrEmpty(trimmed)
            && trimmed != "0"
            && !trimmed.Equals("false", StringComparison.OrdinalIgnoreCase);
    }
}
