using Candor.Context;
using Candor.Diagnostics;
using Candor.Platform;

namespace Candor.Consent;

/// <summary>
/// Resolves the telemetry level from every source, strongest first (DESIGN.md, consent model):
/// <c>DO_NOT_TRACK</c>; the tool's variable and its legacy aliases; the project file (can only lower);
/// the user file; the author's default policy. A file that cannot be read turns the run off.
/// </summary>
/// <remarks>
/// <see cref="Resolve"/> is what a run does: it may print the notice, ask the first-run question,
/// save the answer, create the install id and delete spooled events. <see cref="Inspect"/> is what
/// <c>telemetry status</c> does: the same rules with no side effect.
/// </remarks>
internal sealed class ConsentResolver(CandorOptions options, ICandorEnvironment environment)
{
    public const string DoNotTrack = "DO_NOT_TRACK";
    public const string ProjectFileSource = "project file";
    public const string UserFileSource = "user file";
    public const string PolicySource = "default policy";
    public const string PromptSource = "first-run question";

    /// <summary>Resolves consent for this run, with its side effects. Never throws: a failure is an
    /// off run whose reason says what failed.</summary>
    public ConsentDecision Resolve()
    {
        try
        {
            return Run(apply: true);
        }
#pragma warning disable CA1031 // The host never pays: any failure here is an off run, not a crash.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            CandorEventSource.Log.EventRefused("consent resolution failed: " + ex.GetType().Name);
            return new ConsentDecision(TelemetryLevel.Off, "error")
            {
                Reason = "consent could not be resolved (" + ex.Message + "), so this run is off",
                Problems = [ex.Message],
            };
        }
    }

    /// <summary>The consent a run would get now, without printing, asking, writing or deleting anything.</summary>
    public ConsentDecision Inspect() => Run(apply: false);

    private ConsentDecision Run(bool apply)
    {
        var product = options.ProductName;
        var problems = new List<string>();
        var sources = new List<ConsentSource>();

        // 1. DO_NOT_TRACK
        var doNotTrackValue = environment.GetVariable(DoNotTrack);
        var doNotTrack = LevelNames.IsDoNotTrack(doNotTrackValue);
        sources.Add(new(DoNotTrack, Show(doNotTrackValue), doNotTrack ? "off" : "no effect"));

        // 2. The tool's variable and its legacy aliases: when several are set, the lowest level wins.
        TelemetryLevel? variableLevel = null;
        string? variableSource = null;
        void ConsiderVariable(string name, TelemetryLevel? level, string? value, string expected)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                sources.Add(new(name, Show(value), "no effect"));
                return;
            }

            if (level is null)
            {
                problems.Add($"{name}='{value}' is ignored: expected {expected}.");
                sources.Add(new(name, Show(value), "ignored: unknown value"));
                return;
            }

            sources.Add(new(name, Show(value), LevelNames.Name(level.Value)));
            if (variableLevel is null || level < variableLevel)
            {
                (variableLevel, variableSource) = (level, name);
            }
        }

        var toolValue = environment.GetVariable(options.TelemetryVariable);
        ConsiderVariable(options.TelemetryVariable, toolValue is null ? null : LevelNames.ParseToolVariable(toolValue), toolValue,
            "off, local, anonymous, identified, 0, 1, false or true");
        foreach (var alias in options.LegacyVariables)
        {
            var value = environment.GetVariable(alias.Name);
            var aliasLevel = string.IsNullOrWhiteSpace(value) ? null : alias.Polarity switch
            {
                TelemetryAliasPolarity.OffWhenSet => TelemetryLevel.Off,
                _ => LevelNames.ParseSwitch(value) switch
                {
                    true => TelemetryLevel.Anonymous,
                    false => TelemetryLevel.Off,
                    null => (TelemetryLevel?)null,
                },
            };
            ConsiderVariable(alias.Name, aliasLevel, value, "1, true, yes, on, 0, false, no or off");
        }

        // 3. The project file: can only lower.
        var project = ProjectSettings.Find(environment, product);
        if (project.Problem is not null)
        {
            problems.Add($"The project file '{project.Path}' is not used because {project.Problem}; this run is off.");
        }

        sources.Add(new(ProjectFileSource, project.Path ?? "(none found)",
            project.Problem is not null ? "off: unreadable"
            : project.RefusesConsent ? "consent = false: off"
            : "no effect (can only lower)"));

        // 4. The user file.
        var userFile = new UserSettingsFile(CandorDirectories.UserFile(environment, product));
        var user = userFile.Read();
        if (user.Problem is not null)
        {
            problems.Add($"The user file '{user.Path}' is not used because {user.Problem}; this run is off and the file is left as it is.");
        }

        sources.Add(new(UserFileSource, user.Path,
            user.Problem is not null ? "off: unreadable"
            : user.Settings.Level is { } chosen ? "level = " + LevelNames.Name(chosen)
            : user.Exists ? "no level chosen" : "not created yet"));

        // 5. The author's default policy.
        sources.Add(new(PolicySource, PolicyName(options.DefaultPolicy), options.DefaultPolicy switch
        {
            ConsentPolicy.OptOut => "anonymous after the notice has been shown",
            ConsentPolicy.Prompt => "ask on the first interactive run",
            _ => "off until enabled",
        }));

        var outcome = Decide(apply, doNotTrack, variableLevel, variableSource, project, user, userFile, problems);
        if (outcome.DecidedBy == PromptSource)
        {
            sources.Add(new(PromptSource, outcome.Quit ? "quit" : outcome.Settings?.Level is { } answered ? LevelNames.Name(answered) : "(no answer)", outcome.Reason));
        }

        // Identity and clean-up follow the level.
        var settings = outcome.Settings ?? user.Settings;
        var level = outcome.Level;
        var reason = outcome.Reason;
        var decidedBy = outcome.DecidedBy;
        Guid? installId = settings.InstallId;
        var version = ContextBuilder.ProductVersion(options);
        if (apply)
        {
            if (level < TelemetryLevel.Anonymous)
            {
                LocalTelemetryData.DeleteSpool(environment, product);
            }

            if (user.Problem is null && settings.Level == TelemetryLevel.Off && (settings.InstallId is not null || settings.UserId is not null || settings.InitialVersion is not null))
            {
                // Turning telemetry off deletes the install id, whichever way the user file got its "off".
                var (cleared, problem) = userFile.Update(s => s with { InstallId = null, UserId = null, InitialVersion = null });
                AddIfProblem(problems, problem);
                settings = cleared ?? settings;
                installId = cleared is null ? installId : null;
            }

            if (level >= TelemetryLevel.Anonymous && settings.InstallId is null)
            {
                // Created only now that the level first allows it; under the lock, so two first runs
                // at once end with the same id.
                var (created, problem) = userFile.Update(s => s.InstallId is null ? s.WithNewInstallId(version) : s.WithInitialVersion(version));
                if (created?.InstallId is null)
                {
                    AddIfProblem(problems, problem);
                    (level, reason) = (TelemetryLevel.Off, $"no install id could be saved ({problem}), so this run is off");
                }
                else
                {
                    settings = created;
                    installId = created.InstallId;
                }
            }
            else if (level >= TelemetryLevel.Anonymous && settings.WithInitialVersion(version) != settings)
            {
                // An install id made by a client that did not record its first version: the current one is
                // the best known. When it cannot be saved the id still works; nothing is sent for it and
                // the next run tries again, silently as before (the host never pays for it).
                var (recorded, _) = userFile.Update(s => s.WithInitialVersion(version));
                if (recorded is not null && recorded.InstallId == installId)
                {
                    settings = recorded;
                }
            }
        }

        string? userId = null;
        if (level == TelemetryLevel.Identified)
        {
            userId = settings.UserId;
            if (userId is null)
            {
                level = TelemetryLevel.Anonymous;
                problems.Add($"identified needs an id: run `{product} telemetry enable --level identified --user-id ID`; sending anonymously.");
            }
        }

        if (apply)
        {
            foreach (var problem in problems)
            {
                environment.WriteError($"{product}: telemetry: {problem}\n");
            }
        }

        var decidedInstallId = apply && level < TelemetryLevel.Anonymous ? null : installId;
        return new ConsentDecision(
            level,
            decidedBy,
            decidedInstallId,
            userId,
            level >= TelemetryLevel.Local ? project.ProjectId(product) : null)
        {
            InitialVersion = decidedInstallId is null ? null : settings.InitialVersion,
            Reason = reason,
            Sources = MarkDecided(sources, decidedBy),
            QuitRequested = outcome.Quit,
            Problems = problems,
            UserFilePath = user.Path,
            ProjectFilePath = project.Path,
            NoticeVersionSeen = settings.NoticeVersionSeen,
        };
    }

    private sealed record Outcome(TelemetryLevel Level, string DecidedBy, string Reason, UserSettings? Settings = null, bool Quit = false);

    private Outcome Decide(
        bool apply, bool doNotTrack, TelemetryLevel? variableLevel, string? variableSource,
        ProjectFileState project, UserFileState user, UserSettingsFile userFile, List<string> problems)
    {
        if (doNotTrack)
        {
            return new(TelemetryLevel.Off, DoNotTrack, "DO_NOT_TRACK is set");
        }

        // An unreadable file never raises consent, whichever source would have decided.
        if (project.Problem is not null)
        {
            return new(TelemetryLevel.Off, ProjectFileSource, $"'{project.Path}' cannot be used: {project.Problem}");
        }

        if (user.Problem is not null)
        {
            return new(TelemetryLevel.Off, UserFileSource, $"'{user.Path}' cannot be used: {user.Problem}");
        }

        if (variableLevel is { } level)
        {
            return new(level, variableSource!, $"{variableSource} is set");
        }

        var settings = user.Settings;
        var (baseLevel, baseSource) = settings.Level is { } chosen
            ? ((TelemetryLevel?)chosen, UserFileSource)
            : options.DefaultPolicy switch
            {
                ConsentPolicy.OptOut => (TelemetryLevel.Anonymous, PolicySource),
                ConsentPolicy.Prompt => ((TelemetryLevel?)null, PolicySource),
                _ => (TelemetryLevel.Off, PolicySource),
            };

        if (project.RefusesConsent && baseLevel != TelemetryLevel.Off)
        {
            return new(TelemetryLevel.Off, ProjectFileSource, $"'{project.Path}' says consent = false");
        }

        if (baseLevel is null)
        {
            return Ask(apply, userFile, problems);
        }

        if (baseLevel >= TelemetryLevel.Anonymous && settings.NoticeVersionSeen < options.NoticeVersion)
        {
            if (!apply)
            {
                return new(TelemetryLevel.Off, baseSource, $"the notice (version {options.NoticeVersion}) has not been shown yet: the next run shows it and sends nothing");
            }

            environment.WriteError($"{options.ResolvedNoticeText}\n(This notice is shown once. Nothing was sent on this run.)\n\n");
            var (saved, problem) = userFile.Update(s => s with { NoticeVersionSeen = Math.Max(s.NoticeVersionSeen, options.NoticeVersion) });
            AddIfProblem(problems, problem);
            return new(TelemetryLevel.Off, baseSource, saved is null
                ? $"the notice (version {options.NoticeVersion}) was shown but could not be recorded, so it will be shown again and nothing is sent"
                : $"the notice (version {options.NoticeVersion}) was shown on this run; nothing is sent until the next run", saved);
        }

        return new(baseLevel.Value, baseSource, baseSource == UserFileSource
            ? "the user chose it"
            : options.DefaultPolicy == ConsentPolicy.OptOut ? "opt-out: the notice was shown on an earlier run" : "opt-in: off until enabled");
    }

    private Outcome Ask(bool apply, UserSettingsFile userFile, List<string> problems)
    {
        if (CiDetector.Detect(environment.GetVariable) is { } ci)
        {
            return new(TelemetryLevel.Off, PolicySource, $"the question is never asked under CI ({ci}); off until asked on an interactive run");
        }

        if (!environment.IsInputTerminal || !environment.IsErrorTerminal)
        {
            return new(TelemetryLevel.Off, PolicySource, "the question needs a terminal; off until asked on an interactive run");
        }

        if (!apply)
        {
            return new(TelemetryLevel.Off, PolicySource, "not asked yet: the next interactive run asks");
        }

        var answer = ConsentPrompt.Ask(environment, options);
        if (answer.Quit)
        {
            return new(TelemetryLevel.Off, PromptSource, "the user quit at the question; nothing was saved", Quit: true);
        }

        if (answer.Level is not { } level)
        {
            return new(TelemetryLevel.Off, PromptSource, "no answer; the question is asked again on the next interactive run");
        }

        var (saved, problem) = userFile.Update(s => s with
        {
            Level = level,
            UserId = level == TelemetryLevel.Identified ? answer.UserId : null,
            InstallId = level >= TelemetryLevel.Anonymous ? s.InstallId : null,
            InitialVersion = level >= TelemetryLevel.Anonymous ? s.InitialVersion : null,
            NoticeVersionSeen = Math.Max(s.NoticeVersionSeen, options.NoticeVersion),
        });
        AddIfProblem(problems, problem);
        var fallback = new UserSettings(level, null, answer.UserId, options.NoticeVersion);
        return new(level, PromptSource, "answered on this run" + (saved is null ? " (could not be saved)" : ""), saved ?? fallback);
    }

    internal static string PolicyName(ConsentPolicy policy) => policy switch
    {
        ConsentPolicy.OptOut => "opt-out",
        ConsentPolicy.Prompt => "prompt",
        _ => "opt-in",
    };

    private static ConsentSource[] MarkDecided(List<ConsentSource> sources, string decidedBy)
    {
        var marked = new ConsentSource[sources.Count];
        for (var i = 0; i < marked.Length; i++)
        {
            marked[i] = sources[i].Name == decidedBy ? sources[i] with { Decided = true } : sources[i];
        }

        return marked;
    }

    private static string Show(string? value) => value is null ? "(unset)" : $"'{value}'";

    private static void AddIfProblem(List<string> problems, string? problem)
    {
        if (problem is not null)
        {
            problems.Add(problem);
        }
    }
}
