using System.Security.Cryptography;
using System.Text;
using Candor.Platform;
using Tomlyn.Model;

namespace Candor.Consent;

/// <summary>What the project file (<c>.&lt;product&gt;/telemetry.toml</c>, found from the working
/// directory upwards) says: the project's UUID and whether the project refuses telemetry.</summary>
internal sealed record ProjectFileState(string? Path, bool RefusesConsent, Guid? ProjectUuid, string? Problem)
{
    public static readonly ProjectFileState None = new(null, false, null, null);

    /// <summary>The project id sent with events: SHA-256 of the project UUID and the product name, so
    /// the UUID itself never leaves the machine and two products see unrelated ids.</summary>
    public string? ProjectId(string product)
    {
        return ProjectUuid is { } uuid ? Hash(uuid, product) : null;
    }

    // Apart, so that System.Security.Cryptography is loaded only when there is a project to hash,
    // not whenever the caller is compiled (every run resolves consent).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static string Hash(Guid uuid, string product) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(uuid.ToString("D") + ":" + product)));
}

/// <summary>Finds, reads and creates project files.</summary>
internal static class ProjectSettings
{
    private const string Header = "# This project's telemetry settings. `consent = false` turns telemetry off for everyone working in it.\n";

    public static ProjectFileState Find(ICandorEnvironment environment, string product)
    {
        var relative = CandorDirectories.ProjectFileRelativePath(product);
        string? directory;
        try
        {
            directory = Path.GetFullPath(environment.CurrentDirectory);
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return ProjectFileState.None;
        }

        for (; directory is not null; directory = Path.GetDirectoryName(directory))
        {
            var candidate = Path.Combine(directory, relative);
            if (File.Exists(candidate))
            {
                return Read(candidate);
            }
        }

        return ProjectFileState.None;
    }

    public static ProjectFileState Read(string path)
    {
        var read = TomlFiles.Read(path);
        if (read.Problem is not null)
        {
            return new ProjectFileState(path, false, null, read.Problem);
        }

        var table = read.Table ?? new Dictionary<string, object>();
        var refuses = false;
        if (table.TryGetValue("consent", out var consent))
        {
            if (consent is not bool allowed)
            {
                return new ProjectFileState(path, false, null, $"consent = {consent} is not true or false");
            }

            refuses = !allowed;
        }

        Guid? uuid = null;
        if (table.TryGetValue("project_uuid", out var uuidValue))
        {
            if (uuidValue is not string text || !Guid.TryParseExact(text, "D", out var parsed))
            {
                return new ProjectFileState(path, refuses, null, $"project_uuid = {uuidValue} is not a UUID");
            }

            uuid = parsed;
        }

        return new ProjectFileState(path, refuses, uuid, null);
    }

    /// <summary>Writes <c>.&lt;product&gt;/telemetry.toml</c> in <paramref name="projectDirectory"/> with a
    /// new project UUID, and <c>consent = false</c> when the project refuses telemetry.</summary>
    public static string? Create(string projectDirectory, string product, bool consent)
    {
        var path = Path.Combine(projectDirectory, CandorDirectories.ProjectFileRelativePath(product));
        var table = new TomlTable { ["project_uuid"] = Guid.NewGuid().ToString("D") };
        if (!consent)
        {
            table["consent"] = false;
        }

        return TomlFiles.WriteAtomically(path, table, Header);
    }
}
