using Candor.Platform;

namespace Candor.Consent;

/// <summary>The telemetry files a tool keeps on the user's machine besides the user file: the spool
/// of events waiting to be sent and the transparency log.</summary>
internal static class LocalTelemetryData
{
    /// <summary>Deletes spooled events unsent: what was recorded under a higher level is never sent
    /// after the user lowers it. Cheap when there is nothing to delete (one directory probe).</summary>
    public static void DeleteSpool(ICandorEnvironment environment, string product)
    {
        var spool = CandorDirectories.SpoolDirectory(environment, product);
        try
        {
            if (!Directory.Exists(spool))
            {
                return;
            }

            foreach (var entry in new DirectoryInfo(spool).EnumerateFileSystemInfos())
            {
                if (entry is DirectoryInfo directory)
                {
                    directory.Delete(recursive: true);
                }
                else
                {
                    entry.Delete();
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Diagnostics.CandorEventSource.Log.EventRefused("spool could not be cleared: " + ex.Message);
        }
    }

    /// <summary>Deletes the state directory (spool and transparency log), all but the deletions asked of the
    /// collector and not yet confirmed (<see cref="Rights.PendingForgets"/>), which must outlive it. Returns
    /// the problem or <see langword="null"/>.</summary>
    public static string? DeleteAll(ICandorEnvironment environment, string product)
    {
        var state = CandorDirectories.StateDirectory(environment, product);
        try
        {
            if (!Directory.Exists(state))
            {
                return null;
            }

            var kept = false;
            foreach (var entry in new DirectoryInfo(state).EnumerateFileSystemInfos())
            {
                if (entry is DirectoryInfo directory)
                {
                    if (directory.Name == Rights.PendingForgets.DirectoryName)
                    {
                        kept = true;
                        continue;
                    }

                    directory.Delete(recursive: true);
                }
                else
                {
                    entry.Delete();
                }
            }

            if (!kept)
            {
                Directory.Delete(state, recursive: true);
            }

            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"'{state}' could not be deleted: {ex.Message}";
        }
    }

    /// <summary>Deletes the state directory when it is empty (the last pending deletion was confirmed).</summary>
    public static void DeleteIfEmpty(ICandorEnvironment environment, string product)
    {
        var state = CandorDirectories.StateDirectory(environment, product);
        try
        {
            if (Directory.Exists(state) && !Directory.EnumerateFileSystemEntries(state).Any())
            {
                Directory.Delete(state);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Something was written meanwhile: it stays, as it should.
        }
    }
}
