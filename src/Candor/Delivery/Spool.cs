using System.Globalization;
using System.Text.Json;
using Candor.Consent;
using Candor.Diagnostics;
using Candor.Protocol;

namespace Candor.Delivery;

/// <summary>A batch waiting on disk, oldest first by <see cref="WrittenAt"/>.</summary>
internal sealed record SpooledBatch(string Path, DateTimeOffset WrittenAt, TelemetryLevel Level, EventBatch Batch);

/// <summary>
/// Batches that could not be delivered, kept on disk for a later run: one file per batch, written
/// to a temporary name then renamed, so a crash never leaves a half-written entry. Bounded by
/// count, bytes and age; the oldest go first. File names carry the time written and the consent level
/// the events were recorded under, so nothing is sent after consent was lowered.
/// </summary>
/// <remarks>
/// Runs at every exit of a tool that recorded something, so it keeps to plain loops over reference
/// types: LINQ and lists of value tuples are compiled at startup even in ReadyToRun images.
/// </remarks>
internal sealed class Spool(string directory, long maxBytes, int maxFiles, TimeSpan maxAge, TimeProvider time)
{
    private const string Extension = ".batch.json";

    private volatile bool _closed;

    public string Directory { get; } = directory;

    /// <summary>Refuses every later write (consent was lowered: nothing more is kept).</summary>
    public void Close() => _closed = true;

    /// <summary>Closes the spool and deletes every entry in it.</summary>
    public void Purge()
    {
        Close();
        PurgeDirectory(Directory);
    }

    /// <summary>Deletes every file in a spool directory, unsent (whichever process wrote them). Never throws.</summary>
    public static void PurgeDirectory(string directory)
    {
        try
        {
            if (!System.IO.Directory.Exists(directory))
            {
                return;
            }

            foreach (var file in new DirectoryInfo(directory).EnumerateFiles())
            {
                Delete(file.FullName);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            CandorEventSource.Log.EventRefused("spool could not be cleared: " + ex.GetType().Name);
        }
    }

    /// <summary>Writes a batch and returns its path. Never throws: a spool that cannot be written loses
    /// the batch, reported, and the result is null.</summary>
    public string? Write(EventBatch batch, TelemetryLevel level)
    {
        if (_closed)
        {
            CandorEventSource.Log.SpoolDiscarded(batch.Events.Count, "consent lowered");
            return null;
        }

        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            var name = string.Create(CultureInfo.InvariantCulture,
                $"{time.GetUtcNow().ToUnixTimeMilliseconds():D15}-{LevelNames.Name(level)}-{Guid.NewGuid():N}");
            var temporary = Path.Combine(Directory, "." + name + ".tmp");
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                WireJson.WriteBatch(stream, batch);
            }

            var path = Path.Combine(Directory, name + Extension);
            File.Move(temporary, path);
            CandorEventSource.Log.Spooled(batch.Events.Count);
            Enforce();
            return path;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            CandorEventSource.Log.SpoolDiscarded(batch.Events.Count, "spool not writable: " + ex.GetType().Name);
            return null;
        }
    }

    /// <summary>The batches that may be sent at <paramref name="level"/>, oldest first, after the caps and
    /// the age limit are applied. Entries recorded under a higher level than the current one are deleted.</summary>
    public IReadOnlyList<SpooledBatch> ReadAll(TelemetryLevel level)
    {
        var result = new List<SpooledBatch>();
        foreach (var entry in Enforce())
        {
            var (path, writtenAt, recordedAt) = (entry.Path, entry.WrittenAt, entry.Level);
            if (recordedAt > level)
            {
                Delete(path);
                CandorEventSource.Log.SpoolDiscarded(1, "recorded under a higher consent level");
                continue;
            }

            try
            {
                using var stream = File.OpenRead(path);
                if (WireJson.ReadBatch(stream) is { Events.Count: > 0 } batch)
                {
                    result.Add(new SpooledBatch(path, writtenAt, recordedAt, batch));
                    continue;
                }
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
            {
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // Another process may be draining it; leave it be.
            }

            Delete(path);
            CandorEventSource.Log.SpoolDiscarded(1, "unreadable entry");
        }

        return result;
    }

    public static void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            CandorEventSource.Log.DeliveryFailed("spool entry not deletable");
        }
    }

    /// <summary>One batch file: its path, when it was written, the level it was recorded under, its size.</summary>
    internal sealed record Entry(string Path, DateTimeOffset WrittenAt, TelemetryLevel Level, long Bytes);

    /// <summary>Applies the age limit, then the count and byte caps (oldest dropped). Returns what is left, oldest first.</summary>
    internal List<Entry> Enforce()
    {
        var entries = new List<Entry>();
        try
        {
            if (!System.IO.Directory.Exists(Directory))
            {
                return [];
            }

            var now = time.GetUtcNow();
            foreach (var file in new DirectoryInfo(Directory).EnumerateFiles())
            {
                if (file.Name.EndsWith(".tmp", StringComparison.Ordinal))
                {
                    // Left by a process that died mid-write; a live writer renames within milliseconds.
                    if (now - file.LastWriteTimeUtc > TimeSpan.FromMinutes(1))
                    {
                        Delete(file.FullName);
                    }

                    continue;
                }

                if (!TryParseName(file.Name, out var writtenAt, out var level) || now - writtenAt > maxAge)
                {
                    Delete(file.FullName);
                    CandorEventSource.Log.SpoolDiscarded(1, "older than the spool's age limit or unknown");
                    continue;
                }

                entries.Add(new Entry(file.FullName, writtenAt, level, file.Length));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            CandorEventSource.Log.DeliveryFailed("spool not readable: " + ex.GetType().Name);
            return [];
        }

        // Names start with the time written, so name order is age order.
        entries.Sort(static (a, b) => string.CompareOrdinal(Path.GetFileName(a.Path), Path.GetFileName(b.Path)));
        var bytes = 0L;
        foreach (var entry in entries)
        {
            bytes += entry.Bytes;
        }

        var drop = 0;
        while (drop < entries.Count && (entries.Count - drop > maxFiles || bytes > maxBytes))
        {
            bytes -= entries[drop].Bytes;
            Delete(entries[drop].Path);
            drop++;
        }

        if (drop > 0)
        {
            CandorEventSource.Log.SpoolDiscarded(drop, "spool full: oldest dropped");
        }

        entries.RemoveRange(0, drop);
        return entries;
    }

    private static bool TryParseName(string name, out DateTimeOffset writtenAt, out TelemetryLevel level)
    {
        writtenAt = default;
        level = default;
        if (!name.EndsWith(Extension, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = name[..^Extension.Length].Split('-');
        if (parts.Length != 3 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds) ||
            LevelNames.ParseLevel(parts[1]) is not { } parsed)
        {
            return false;
        }

        level = parsed;
        writtenAt = DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
        return true;
    }
}
