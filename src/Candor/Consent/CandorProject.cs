using Candor.Consent;

namespace Candor;

/// <summary>Project-level telemetry settings for tools that create projects (like <c>acme new</c>).</summary>
public static class CandorProject
{
    /// <summary>
    /// Writes the project file <c>.&lt;product&gt;/telemetry.toml</c> in <paramref name="projectDirectory"/>
    /// with a new random project UUID (the project id sent with events is a hash of it and the product
    /// name). With <paramref name="consent"/> <see langword="false"/> it also writes <c>consent = false</c>,
    /// which turns telemetry off for every run inside the project. Never throws.
    /// </summary>
    /// <param name="options">The tool's Candor options (only <see cref="CandorOptions.ProductName"/> is used).</param>
    /// <param name="projectDirectory">The project's root directory; created when missing.</param>
    /// <param name="consent">Whether the project allows telemetry.</param>
    /// <param name="problem">Why the file could not be written, or <see langword="null"/>.</param>
    /// <returns>Whether the file was written.</returns>
    public static bool TryCreate(CandorOptions options, string projectDirectory, bool consent, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(projectDirectory);
        problem = ProjectSettings.Create(projectDirectory, options.ProductName, consent);
        return problem is null;
    }
}
