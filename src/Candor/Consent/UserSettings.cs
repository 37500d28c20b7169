using System.Diagnostics;
using System.Text;
using Tomlyn.Model;

namespace Candor.Consent;

/// <summary>What the user file holds: the chosen level, the install id, the user-provided id, the
/// notice version seen and the install's initial version. Every member is optional. The initial version
/// is the tool's version when the install id was made (for an id made by a client that did not record
/// it: the version that first ran after it); it is made and deleted with the id.</summary>
internal sealed record UserSettings(
    TelemetryLevel? Level = null, Guid? InstallId = null, string? UserId = null, int NoticeVersionSeen = 0, string? InitialVersion = null)
{
    /// <summary>The collector refuses a batch whose <c>initial_version</c> is longer (it groups by it).</summary>
    public const int MaxVersionBytes = 200;

    public static readonly UserSettings Empty = new();

    /// <summary>A new install id, recorded with the version it starts with.</summary>
    public UserSettings WithNewInstallId(string? version) => this with { InstallId = Guid.NewGuid(), InitialVersion = Recordable(version) };

    /// <summary>The version to record for an install id that has none yet (made by an older client):
    /// the current version is the best known first one. Unchanged when there is nothing to record.</summary>
    public UserSettings WithInitialVersion(string? version) =>
        InstallId is not null && InitialVersion is null && Recordable(version) is { } recorded ? this with { InitialVersion = recorded } : this;

    /// <summary>The version, or <see langword="null"/> when the collector would refuse it.</summary>
    public static string? Recordable(string? version) => IsValidVersion(version) ? version : null;

    public static bool IsValidVersion(string? version) =>
        !string.IsNullOrWhiteSpace(version) && Encoding.UTF8.GetByteCount(version) <= MaxVersionBytes;
}

/// <summary>What reading the user file gave.</summary>
internal sealed record UserFileState(string Path, bool Exists, UserSettings Settings, string? Problem);

/// <summary>
/// The user file (<c>telemetry.toml</c> in the OS config directory). Changes take an exclusive lock
/// on a lock file beside it and re-read the file under the lock, so two processes starting at once
/// end with one install id; writes are atomic renames. A file that cannot be read is never
/// overwritten: changes are refused with the reason.
/// </summary>
internal sealed class UserSettingsFile(string path)
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(3);

    private const string Header = "# Telemetry settings, written by the tool's `telemetry` command. Delete this file to be asked again.\n";

    public string Path { get; } = path;

    public UserFileState Read()
    {
        var read = TomlFiles.Read(Path);
        if (read.Problem is not null)
        {
            return new UserFileState(Path, true, UserSettings.Empty, read.Problem);
        }

        if (read.Table is null)
        {
            return new UserFileState(Path, false, UserSettings.Empty, null);
        }

        var problem = Parse(read.Table, out var settings);
        return new UserFileState(Path, true, problem is null ? settings : UserSettings.Empty, problem);
    }

    /// <summary>Changes the file under the lock. Returns the settings as written, or the problem.</summary>
    public (UserSettings? Settings, string? Problem) Update(Func<UserSettings, UserSettings> change)
    {
        FileStream? lockFile = null;
        try
        {
            (lockFile, var lockProblem) = AcquireLock();
            if (lockFile is null)
            {
                return (null, lockProblem);
            }

            var read = TomlFiles.Read(Path);
            if (read.Problem is not null)
            {
                return (null, $"'{Path}' is left as it is because {read.Problem}");
            }

            var problem = Parse(read.Table ?? new Dictionary<string, object>(), out var current);
            if (problem is not null)
            {
                return (null, $"'{Path}' is left as it is because {problem}");
            }

            var updated = change(current);
            if (updated == current)
            {
                return (current, null);
            }

            var table = TomlFiles.ToTable(read.Table);
            Write(table, updated);
            var writeProblem = TomlFiles.WriteAtomically(Path, table, Header);
            return writeProblem is null ? (updated, null) : (null, writeProblem);
        }
        finally
        {
            lockFile?.Dispose();
        }
    }

    /// <summary>Removes the lock file (used by <c>telemetry forget</c>).</summary>
    public void DeleteLockFile() => TomlFiles.TryDelete(Path + ".lock");

    private (FileStream? Lock, string? Problem) AcquireLock()
    {
        var lockPath = Path + ".lock";
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, $"'{System.IO.Path.GetDirectoryName(Path)}' cannot be created: {ex.Message}");
        }

        // FileShare.None is an exclusive lock (flock on Unix) held until disposed. The lock file stays:
        // deleting it on release would let a waiting process lock an unlinked file while a third
        // process locks a new one.
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return (new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None), null);
            }
            catch (UnauthorizedAccessException ex)
            {
                return (null, $"'{lockPath}' cannot be opened: {ex.Message}");
            }
            catch (IOException ex)
            {
                if (stopwatch.Elapsed > LockTimeout)
                {
                    return (null, $"'{lockPath}' stayed locked for {LockTimeout.TotalSeconds:0} s: {ex.Message}");
                }

                Thread.Sleep(Random.Shared.Next(5, 25));
            }
        }
    }

    private static string? Parse(IDictionary<string, object> table, out UserSettings settings)
    {
        settings = UserSettings.Empty;
        TelemetryLevel? level = null;
        if (table.TryGetValue("level", out var levelValue))
        {
            level = levelValue is string levelName ? LevelNames.ParseLevel(levelName) : null;
            if (level is null)
            {
                return $"level = {levelValue} is not one of \"off\", \"local\", \"anonymous\", \"identified\"";
            }
        }

        Guid? installId = null;
        if (table.TryGetValue("install_id", out var installValue))
        {
            if (installValue is not string installText || !Guid.TryParseExact(installText, "D", out var parsed))
            {
                return $"install_id = {installValue} is not a UUID";
            }

            installId = parsed;
        }

        string? userId = null;
        if (table.TryGetValue("user_id", out var userValue))
        {
            if (userValue is not string userText || !UserIds.IsValid(userText))
            {
                return $"user_id = {userValue} is not an email address or a UUID";
            }

            userId = userText;
        }

        var noticeVersion = 0;
        if (table.TryGetValue("notice_version", out var noticeValue))
        {
            if (noticeValue is not long version || version is < 0 or > int.MaxValue)
            {
                return $"notice_version = {noticeValue} is not a whole number";
            }

            noticeVersion = (int)version;
        }

        string? initialVersion = null;
        if (table.TryGetValue("initial_version", out var initialValue))
        {
            if (initialValue is not string initialText || !UserSettings.IsValidVersion(initialText))
            {
                return $"initial_version = {initialValue} is not a version of at most {UserSettings.MaxVersionBytes} bytes";
            }

            initialVersion = initialText;
        }

        settings = new UserSettings(level, installId, userId, noticeVersion, initialVersion);
        return null;
    }

    private static void Write(TomlTable table, UserSettings settings)
    {
        Set(table, "level", settings.Level is { } level ? LevelNames.Name(level) : null);
        Set(table, "install_id", settings.InstallId?.ToString("D"));
        Set(table, "initial_version", settings.InitialVersion);
        Set(table, "user_id", settings.UserId);
        if (settings.NoticeVersionSeen > 0)
        {
            table["notice_version"] = (long)settings.NoticeVersionSeen;
        }
        else
        {
            table.Remove("notice_version");
        }
    }

    private static void Set(TomlTable table, string key, string? value)
    {
        if (value is null)
        {
            table.Remove(key);
        }
        else
        {
            table[key] = value;
        }
    }
}

/// <summary>The ids a user may provide for <see cref="TelemetryLevel.Identified"/>: an email address or a UUID.</summary>
internal static class UserIds
{
    public static bool IsValid(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > 254 || value.Any(char.IsWhiteSpace))
        {
            return false;
        }

        if (Guid.TryParse(value, out _))
        {
            return true;
        }

        var at = value.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && at == value.LastIndexOf('@') && value.IndexOf('.', at) > at + 1 && !value.EndsWith('.');
    }
}
