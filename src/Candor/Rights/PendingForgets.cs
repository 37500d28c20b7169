using System.Globalization;
using Candor.Consent;
using Tomlyn.Model;

namespace Candor.Rights;

/// <summary>A deletion asked of the collector and not yet confirmed.</summary>
/// <param name="InstallId">The forgotten install id: kept only to ask again, deleted once the collector confirms.</param>
/// <param name="RequestedAt">When the user ran <c>telemetry forget</c>.</param>
/// <param name="LastRefusal">The collector's last refusal (e.g. <c>401 invalid_write_key: …</c>), if any.</param>
/// <param name="RefusedAt">When that refusal came.</param>
internal sealed record PendingForget(Guid InstallId, DateTimeOffset RequestedAt, string? LastRefusal, DateTimeOffset? RefusedAt);

/// <summary>
/// Deletions asked of the collector by <c>telemetry forget</c> and not yet confirmed, one small file per
/// install id in <c>&lt;state directory&gt;/pending-forget/&lt;install id&gt;.toml</c>. The folder survives
/// the deletion of the rest of the state directory; a file is deleted as soon as the collector confirms.
/// One file per id rather than one list: adding (the command) and confirming (a client's background
/// thread, maybe in another process) then never overwrite each other's change. Never throws.
/// </summary>
internal static class PendingForgets
{
    public const string DirectoryName = "pending-forget";

    private const string Header = "# A deletion `telemetry forget` asked of the collector, not yet confirmed. Later runs ask again;\n" +
        "# this file (and with it the old install id) is deleted once the collector confirms.\n";

    public static string DirectoryOf(string stateDirectory) => Path.Combine(stateDirectory, DirectoryName);

    /// <summary>Whether any deletion is pending: one directory probe, cheap enough for a client's start.</summary>
    public static bool Any(string stateDirectory)
    {
        try
        {
            return Directory.Exists(DirectoryOf(stateDirectory));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The pending deletions, oldest first. A file that cannot be read still names its install id
    /// (its file name); its time is then the file's.</summary>
    public static IReadOnlyList<PendingForget> Read(string stateDirectory)
    {
        var pending = new List<PendingForget>();
        try
        {
            var directory = DirectoryOf(stateDirectory);
            if (!Directory.Exists(directory))
            {
                return pending;
            }

            foreach (var path in Directory.EnumerateFiles(directory, "*.toml"))
            {
                if (Guid.TryParseExact(Path.GetFileNameWithoutExtension(path), "D", out var installId))
                {
                    pending.Add(Parse(installId, path));
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Diagnostics.CandorEventSource.Log.InternalError("pending forget: " + ex.GetType().Name);
        }

        pending.Sort((a, b) => a.RequestedAt.CompareTo(b.RequestedAt));
        return pending;
    }

    /// <summary>Records a deletion to ask for. Returns the problem, or <see langword="null"/>.</summary>
    public static string? Add(string stateDirectory, Guid installId, DateTimeOffset requestedAt) =>
        Write(stateDirectory, new PendingForget(installId, requestedAt, null, null));

    /// <summary>Records the collector's refusal on a pending deletion (kept, asked again later).</summary>
    public static void Refused(string stateDirectory, PendingForget pending, string refusal, DateTimeOffset at)
    {
        // Only while it is still pending: another process may have had it confirmed meanwhile.
        if (File.Exists(PathOf(stateDirectory, pending.InstallId)))
        {
            _ = Write(stateDirectory, pending with { LastRefusal = refusal, RefusedAt = at });
        }
    }

    /// <summary>The collector confirmed: the file goes, and the folder with its last file.</summary>
    public static void Confirmed(string stateDirectory, Guid installId)
    {
        TomlFiles.TryDelete(PathOf(stateDirectory, installId));
        try
        {
            var directory = DirectoryOf(stateDirectory);
            if (Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any())
            {
                Directory.Delete(directory);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A file added meanwhile keeps the folder, as it should.
        }
    }

    private static string PathOf(string stateDirectory, Guid installId) =>
        Path.Combine(DirectoryOf(stateDirectory), installId.ToString("D") + ".toml");

    private static string? Write(string stateDirectory, PendingForget pending)
    {
        var table = new TomlTable
        {
            ["install_id"] = pending.InstallId.ToString("D"),
            ["requested_at"] = Format(pending.RequestedAt),
        };
        if (pending.LastRefusal is not null)
        {
            table["last_refusal"] = pending.LastRefusal;
            table["refused_at"] = Format(pending.RefusedAt ?? pending.RequestedAt);
        }

        return TomlFiles.WriteAtomically(PathOf(stateDirectory, pending.InstallId), table, Header);
    }

    private static PendingForget Parse(Guid installId, string path)
    {
        var read = TomlFiles.Read(path);
        var table = read.Table ?? new Dictionary<string, object>();
        var requestedAt = Time(table, "requested_at") ?? FileTime(path);
        var refusal = table.TryGetValue("last_refusal", out var value) ? value as string : null;
        return new PendingForget(installId, requestedAt, refusal, refusal is null ? null : Time(table, "refused_at"));
    }

    private static DateTimeOffset? Time(IDictionary<string, object> table, string key) =>
        table.TryGetValue(key, out var value) && value is string text &&
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.ToUniversalTime()
            : null;

    private static DateTimeOffset FileTime(string path)
    {
        try
        {
            return new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return DateTimeOffset.UnixEpoch;
        }
    }

    // Milliseconds, so that deletions asked in the same second keep their order.
    private static string Format(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
