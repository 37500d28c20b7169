using Candor.Consent;
using Candor.Context;
using Candor.Platform;

namespace Candor.CommandLine;

/// <summary>What the <c>telemetry</c> subcommands do. Each returns the exit code: 0, or 1 when a file
/// could not be changed (the message names the file and why) or the collector refused or could not
/// answer a request the user made (see <see cref="CollectorRights"/>).</summary>
internal sealed class TelemetryActions(CandorOptions options, ICandorEnvironment environment)
{
    private readonly CollectorRights _rights = new(options, environment);

    private string Product => options.ProductName;

    private UserSettingsFile UserFile => new(CandorDirectories.UserFile(environment, Product));

    public int Status(TextWriter output)
    {
        var decision = new ConsentResolver(options, environment).Inspect();
        output.WriteLine($"Telemetry: {LevelNames.Name(decision.Level)}");
        output.WriteLine($"Decided by: {decision.DecidedBy} ({decision.Reason})");
        output.WriteLine();
        output.WriteLine("Sources, strongest first (* decided):");
        var nameWidth = decision.Sources.Max(s => s.Name.Length);
        var valueWidth = decision.Sources.Max(s => s.Value.Length);
        foreach (var source in decision.Sources)
        {
            output.WriteLine($"{(source.Decided ? "*" : " ")} {source.Name.PadRight(nameWidth)}  {source.Value.PadRight(valueWidth)}  {source.Effect}");
        }

        var transparencyLog = CandorDirectories.TransparencyLog(environment, Product);
        var user = UserFile.Read();
        output.WriteLine();
        output.WriteLine("Files:");
        output.WriteLine($"  user file         {decision.UserFilePath}{(user.Exists ? "" : " (not created yet)")}");
        output.WriteLine($"  project file      {decision.ProjectFilePath ?? "(none found from " + environment.CurrentDirectory + " upwards)"}");
        output.WriteLine($"  transparency log  {transparencyLog}{(File.Exists(transparencyLog) ? "" : " (empty)")}");
        output.WriteLine($"  spool             {CandorDirectories.SpoolDirectory(environment, Product)}");
        output.WriteLine();
        output.WriteLine($"Install id:      {user.Settings.InstallId?.ToString("D") ?? "(none)"}");
        output.WriteLine($"Initial version: {user.Settings.InitialVersion ?? "(none)"}");
        output.WriteLine($"User id:         {user.Settings.UserId ?? "(none)"}");
        output.WriteLine($"Project id:      {ProjectSettings.Find(environment, Product).ProjectId(Product) ?? "(none)"}");
        output.WriteLine($"Endpoint:        {options.Endpoint?.ToString() ?? "(none: nothing is sent)"}");
        output.WriteLine($"Notice version:  {options.NoticeVersion} (seen: {(decision.NoticeVersionSeen == 0 ? "none" : decision.NoticeVersionSeen)})");
        output.WriteLine($"Default policy:  {ConsentResolver.PolicyName(options.DefaultPolicy)}");
        _rights.Status(output);
        if (decision.Problems.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("Problems:");
            foreach (var problem in decision.Problems)
            {
                output.WriteLine("  " + problem);
            }
        }

        return 0;
    }

    public int Enable(string? levelName, string? userId, TextWriter output, TextWriter error)
    {
        var level = LevelNames.ParseLevel(levelName) ?? (userId is null ? TelemetryLevel.Anonymous : TelemetryLevel.Identified);
        if (userId is not null && (level != TelemetryLevel.Identified || !UserIds.IsValid(userId)))
        {
            error.WriteLine(level != TelemetryLevel.Identified
                ? "--user-id is only used with --level identified."
                : $"'{userId}' is neither an email address nor a UUID.");
            return 1;
        }

        var file = UserFile;
        if (level == TelemetryLevel.Identified && userId is null && file.Read().Settings.UserId is null)
        {
            error.WriteLine("--level identified needs --user-id (an email address or a UUID).");
            return 1;
        }

        var version = ContextBuilder.ProductVersion(options);
        var (saved, problem) = file.Update(s => (level < TelemetryLevel.Anonymous ? s with { InstallId = null, InitialVersion = null }
            : s.InstallId is null ? s.WithNewInstallId(version)
            : s.WithInitialVersion(version)) with
        {
            Level = level,
            UserId = level == TelemetryLevel.Identified ? userId ?? s.UserId : null,
            NoticeVersionSeen = Math.Max(s.NoticeVersionSeen, options.NoticeVersion),
        });
        if (saved is null)
        {
            error.WriteLine($"Telemetry was not enabled: {problem}");
            return 1;
        }

        if (level < TelemetryLevel.Anonymous)
        {
            LocalTelemetryData.DeleteSpool(environment, Product);
        }

        output.WriteLine(options.ResolvedNoticeText);
        output.WriteLine();
        output.WriteLine($"Telemetry is now {LevelNames.Name(level)}{(saved.InstallId is { } id ? $" (install id {id:D})" : "")}, saved in {file.Path}.");
        WarnWhenOverridden(level, output);
        return 0;
    }

    public int Disable(TextWriter output, TextWriter error)
    {
        var file = UserFile;
        var (saved, problem) = file.Update(s => s with { Level = TelemetryLevel.Off, InstallId = null, UserId = null, InitialVersion = null });
        LocalTelemetryData.DeleteSpool(environment, Product);
        if (saved is null)
        {
            error.WriteLine($"Telemetry could not be turned off for later runs: {problem}");
            error.WriteLine($"Set {options.TelemetryVariable}=off or DO_NOT_TRACK=1 instead. Unsent events were deleted.");
            return 1;
        }

        output.WriteLine($"Telemetry is off, saved in {file.Path}. The install id and every unsent event were deleted; nothing was sent.");
        return 0;
    }

    public int Forget(TextWriter output, TextWriter error)
    {
        var file = UserFile;
        string? problem = null;
        Guid? forgotten = null;
        if (file.Read().Exists)
        {
            (var saved, problem) = file.Update(s =>
            {
                forgotten = s.InstallId;
                return s with { InstallId = null, UserId = null, InitialVersion = null };
            });

            // An id that could not be deleted here is still sent under: the collector must not refuse its events.
            forgotten = saved is null ? null : forgotten;
        }

        var dataProblem = LocalTelemetryData.DeleteAll(environment, Product);
        if (problem is not null || dataProblem is not null)
        {
            error.WriteLine(string.Join(Environment.NewLine, new[] { problem, dataProblem }.Where(p => p is not null)));
        }
        else
        {
            output.WriteLine($"Deleted the install id, the user id, unsent events and the transparency log ({CandorDirectories.StateDirectory(environment, Product)}).");
            output.WriteLine("Your choice of level is kept; a new install id is made the next time telemetry is sent.");
        }

        var remote = _rights.Forget(forgotten, output, error);
        return problem is not null || dataProblem is not null ? 1 : remote;
    }

    /// <summary><c>show</c>: the transparency log; with <paramref name="server"/>, what the collector holds
    /// for this install; with <paramref name="schema"/>, every event the tool may send.</summary>
    public int Show(bool server, bool schema, TextWriter output, TextWriter error)
    {
        if (server && schema)
        {
            error.WriteLine("Choose one of --server and --schema.");
            return 1;
        }

        return server ? _rights.ShowServer(output, error)
            : schema ? _rights.ShowSchema(output)
            : ShowLog(output, error);
    }

    private int ShowLog(TextWriter output, TextWriter error)
    {
        var path = CandorDirectories.TransparencyLog(environment, Product);
        try
        {
            if (!File.Exists(path))
            {
                output.WriteLine($"No events recorded: {path} does not exist.");
                return 0;
            }

            var count = 0;
            foreach (var line in File.ReadLines(path))
            {
                if (line.Length > 0)
                {
                    output.WriteLine(line);
                    count++;
                }
            }

            if (count == 0)
            {
                output.WriteLine($"No events recorded: {path} is empty.");
            }

            return 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"'{path}' cannot be read: {ex.Message}");
            return 1;
        }
    }

    private void WarnWhenOverridden(TelemetryLevel chosen, TextWriter output)
    {
        var decision = new ConsentResolver(options, environment).Inspect();
        if (decision.Level < chosen && decision.DecidedBy != ConsentResolver.UserFileSource)
        {
            output.WriteLine($"Note: {decision.DecidedBy} keeps telemetry {LevelNames.Name(decision.Level)} for now ({decision.Reason}).");
        }
    }
}
