using Candor.Consent;
using Candor.TestSupport;

namespace Candor.Tests.Consent;

/// <summary>
/// Every consent source alone and in conflict, as one table: the environment, the files and the
/// terminal a run starts with, and the level and deciding source it must end with.
/// </summary>
public sealed class ConsentPrecedenceTests
{
    private const string ChoseAnonymous = "level = \"anonymous\"\nnotice_version = 1\n";
    private const string SawNotice = "notice_version = 1\n";
    private const string IdentifiedUser = "level = \"identified\"\nuser_id = \"ada@example.com\"\nnotice_version = 1\n";

    private static readonly Dictionary<string, ConsentCase> Cases = new(StringComparer.Ordinal)
    {
        // DO_NOT_TRACK: off for any non-empty value other than 0 or false, trimmed and case-insensitive; always wins.
        ["DO_NOT_TRACK=1 turns telemetry off"] = new() { Env = { ["DO_NOT_TRACK"] = "1" }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Off, DecidedBy = "DO_NOT_TRACK" },
        ["DO_NOT_TRACK=true turns telemetry off"] = new() { Env = { ["DO_NOT_TRACK"] = "true" }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Off, DecidedBy = "DO_NOT_TRACK" },
        ["DO_NOT_TRACK=yes turns telemetry off"] = new() { Env = { ["DO_NOT_TRACK"] = "yes" }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Off, DecidedBy = "DO_NOT_TRACK" },
        ["DO_NOT_TRACK=' TRUE ' turns telemetry off"] = new() { Env = { ["DO_NOT_TRACK"] = " TRUE " }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Off, DecidedBy = "DO_NOT_TRACK" },
        ["DO_NOT_TRACK=0 leaves the decision to the next source"] = new() { Env = { ["DO_NOT_TRACK"] = "0" }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Anonymous, DecidedBy = "user file" },
        ["DO_NOT_TRACK=false leaves the decision to the next source"] = new() { Env = { ["DO_NOT_TRACK"] = "false" }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Anonymous, DecidedBy = "user file" },
        ["DO_NOT_TRACK=' False ' leaves the decision to the next source"] = new() { Env = { ["DO_NOT_TRACK"] = " False " }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Anonymous, DecidedBy = "user file" },
        ["An empty DO_NOT_TRACK leaves the decision to the next source"] = new() { Env = { ["DO_NOT_TRACK"] = "" }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Anonymous, DecidedBy = "user file" },
        ["DO_NOT_TRACK wins over ACME_TELEMETRY=anonymous"] = new() { Env = { ["DO_NOT_TRACK"] = "1", ["ACME_TELEMETRY"] = "anonymous" }, Level = TelemetryLevel.Off, DecidedBy = "DO_NOT_TRACK" },

        // The tool's variable: level names and 0/1/false/true; unknown values are ignored.
        ["ACME_TELEMETRY=off turns telemetry off over the user's choice"] = new() { Env = { ["ACME_TELEMETRY"] = "off" }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Off, DecidedBy = "ACME_TELEMETRY" },
        ["ACME_TELEMETRY=local records locally only"] = new() { Env = { ["ACME_TELEMETRY"] = "local" }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Local, DecidedBy = "ACME_TELEMETRY" },
        ["ACME_TELEMETRY=anonymous enables telemetry under opt-in"] = new() { Env = { ["ACME_TELEMETRY"] = "anonymous" }, Policy = ConsentPolicy.OptIn, Level = TelemetryLevel.Anonymous, DecidedBy = "ACME_TELEMETRY" },
        ["ACME_TELEMETRY=Identified uses the saved user id"] = new() { Env = { ["ACME_TELEMETRY"] = "Identified" }, UserFile = IdentifiedUser, Level = TelemetryLevel.Identified, DecidedBy = "ACME_TELEMETRY" },
        ["ACME_TELEMETRY=0 turns telemetry off"] = new() { Env = { ["ACME_TELEMETRY"] = "0" }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Off, DecidedBy = "ACME_TELEMETRY" },
        ["ACME_TELEMETRY=false turns telemetry off"] = new() { Env = { ["ACME_TELEMETRY"] = "false" }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Off, DecidedBy = "ACME_TELEMETRY" },
        ["ACME_TELEMETRY=1 enables anonymous telemetry"] = new() { Env = { ["ACME_TELEMETRY"] = "1" }, Policy = ConsentPolicy.OptIn, Level = TelemetryLevel.Anonymous, DecidedBy = "ACME_TELEMETRY" },
        ["ACME_TELEMETRY=true enables anonymous telemetry"] = new() { Env = { ["ACME_TELEMETRY"] = "true" }, Policy = ConsentPolicy.OptIn, Level = TelemetryLevel.Anonymous, DecidedBy = "ACME_TELEMETRY" },
        ["An unknown ACME_TELEMETRY is ignored and the user file decides"] = new() { Env = { ["ACME_TELEMETRY"] = "sometimes" }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Anonymous, DecidedBy = "user file", Warning = "ACME_TELEMETRY='sometimes' is ignored" },
        ["An unknown ACME_TELEMETRY is ignored and the policy decides"] = new() { Env = { ["ACME_TELEMETRY"] = "yes please" }, Policy = ConsentPolicy.OptIn, Level = TelemetryLevel.Off, DecidedBy = "default policy", Warning = "ACME_TELEMETRY='yes please' is ignored" },

        // Legacy aliases with their polarity; among the tool's variables the lowest level wins.
        ["ACME_DISABLE_TELEMETRY=1 turns telemetry off"] = new() { Env = { ["ACME_DISABLE_TELEMETRY"] = "1" }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Off, DecidedBy = "ACME_DISABLE_TELEMETRY" },
        ["ACME_DISABLE_TELEMETRY with any value turns telemetry off"] = new() { Env = { ["ACME_DISABLE_TELEMETRY"] = "whatever" }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Off, DecidedBy = "ACME_DISABLE_TELEMETRY" },
        ["ACME_ENABLE_TELEMETRY=0 turns telemetry off"] = new() { Env = { ["ACME_ENABLE_TELEMETRY"] = "0" }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Off, DecidedBy = "ACME_ENABLE_TELEMETRY" },
        ["ACME_ENABLE_TELEMETRY=false turns telemetry off"] = new() { Env = { ["ACME_ENABLE_TELEMETRY"] = "false" }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Off, DecidedBy = "ACME_ENABLE_TELEMETRY" },
        ["ACME_ENABLE_TELEMETRY=1 enables anonymous telemetry"] = new() { Env = { ["ACME_ENABLE_TELEMETRY"] = "1" }, Policy = ConsentPolicy.OptIn, Level = TelemetryLevel.Anonymous, DecidedBy = "ACME_ENABLE_TELEMETRY" },
        ["An unknown ACME_ENABLE_TELEMETRY is ignored"] = new() { Env = { ["ACME_ENABLE_TELEMETRY"] = "maybe" }, UserFile = ChoseAnonymous, Level = TelemetryLevel.Anonymous, DecidedBy = "user file", Warning = "ACME_ENABLE_TELEMETRY='maybe' is ignored" },
        ["A disabling alias wins over ACME_TELEMETRY=anonymous"] = new() { Env = { ["ACME_TELEMETRY"] = "anonymous", ["ACME_DISABLE_TELEMETRY"] = "1" }, Level = TelemetryLevel.Off, DecidedBy = "ACME_DISABLE_TELEMETRY" },
        ["ACME_TELEMETRY=local wins over an enabling alias"] = new() { Env = { ["ACME_TELEMETRY"] = "local", ["ACME_ENABLE_TELEMETRY"] = "1" }, Level = TelemetryLevel.Local, DecidedBy = "ACME_TELEMETRY" },

        // The project file can only lower.
        ["A project file with consent = false lowers the user's choice"] = new() { ProjectFile = "consent = false\n", UserFile = ChoseAnonymous, Level = TelemetryLevel.Off, DecidedBy = "project file" },
        ["A project file with consent = false lowers the opt-out default"] = new() { ProjectFile = "consent = false\n", UserFile = SawNotice, Level = TelemetryLevel.Off, DecidedBy = "project file" },
        ["A project file with consent = true does not raise opt-in"] = new() { ProjectFile = "consent = true\n", Policy = ConsentPolicy.OptIn, Level = TelemetryLevel.Off, DecidedBy = "default policy" },
        ["A project file with consent = true leaves the user's choice"] = new() { ProjectFile = "consent = true\n", UserFile = ChoseAnonymous, Level = TelemetryLevel.Anonymous, DecidedBy = "user file" },
        ["A project file in a parent directory applies"] = new() { ProjectFile = "consent = false\n", ProjectInParent = true, UserFile = ChoseAnonymous, Level = TelemetryLevel.Off, DecidedBy = "project file" },
        ["ACME_TELEMETRY ranks above the project file"] = new() { Env = { ["ACME_TELEMETRY"] = "anonymous" }, ProjectFile = "consent = false\n", Level = TelemetryLevel.Anonymous, DecidedBy = "ACME_TELEMETRY" },
        ["A corrupt project file turns the run off"] = new() { ProjectFile = "consent = = false\n", UserFile = ChoseAnonymous, Level = TelemetryLevel.Off, DecidedBy = "project file", Warning = "is not valid TOML" },
        ["A project file with consent = \"no\" turns the run off"] = new() { ProjectFile = "consent = \"no\"\n", UserFile = ChoseAnonymous, Level = TelemetryLevel.Off, DecidedBy = "project file", Warning = "is not true or false" },

        // The user file.
        ["The user's local choice decides"] = new() { UserFile = "level = \"local\"\n", Level = TelemetryLevel.Local, DecidedBy = "user file" },
        ["The user's off choice decides over opt-out"] = new() { UserFile = "level = \"off\"\n", Level = TelemetryLevel.Off, DecidedBy = "user file" },
        ["The user's anonymous choice decides over opt-in"] = new() { UserFile = ChoseAnonymous, Policy = ConsentPolicy.OptIn, Level = TelemetryLevel.Anonymous, DecidedBy = "user file" },
        ["The user's identified choice sends the user id"] = new() { UserFile = IdentifiedUser, Level = TelemetryLevel.Identified, DecidedBy = "user file" },
        ["A corrupt user file turns the run off"] = new() { UserFile = "level = \"anonymous\nnotice_version = 1\n", Level = TelemetryLevel.Off, DecidedBy = "user file", Warning = "is not valid TOML" },
        ["A user file with an unknown level turns the run off"] = new() { UserFile = "level = \"everything\"\n", Level = TelemetryLevel.Off, DecidedBy = "user file", Warning = "level = everything is not one of" },
        ["A corrupt user file turns the run off even with ACME_TELEMETRY=anonymous"] = new() { Env = { ["ACME_TELEMETRY"] = "anonymous" }, UserFile = "install_id = 42\n", Level = TelemetryLevel.Off, DecidedBy = "user file", Warning = "install_id = 42 is not a UUID" },

        // Each default policy.
        ["Opt-in is off until enabled"] = new() { Policy = ConsentPolicy.OptIn, Level = TelemetryLevel.Off, DecidedBy = "default policy" },
        ["Opt-out shows the notice and sends nothing on the first run"] = new() { Policy = ConsentPolicy.OptOut, Level = TelemetryLevel.Off, DecidedBy = "default policy", Notice = true },
        ["Opt-out is anonymous once the notice was shown"] = new() { Policy = ConsentPolicy.OptOut, UserFile = SawNotice, Level = TelemetryLevel.Anonymous, DecidedBy = "default policy" },
        ["Opt-out shows a newer notice version and sends nothing on that run"] = new() { Policy = ConsentPolicy.OptOut, UserFile = SawNotice, NoticeVersion = 2, Level = TelemetryLevel.Off, DecidedBy = "default policy", Notice = true },
        ["A user's choice waits for a newer notice to be shown"] = new() { UserFile = ChoseAnonymous, NoticeVersion = 2, Level = TelemetryLevel.Off, DecidedBy = "user file", Notice = true },
        ["Opt-out under CI still shows the notice without asking anything"] = new() { Env = { ["CI"] = "true" }, Terminal = false, Level = TelemetryLevel.Off, DecidedBy = "default policy", Notice = true },
        ["Prompt asks on a terminal and the answer decides"] = new() { Policy = ConsentPolicy.Prompt, Input = ["3"], Level = TelemetryLevel.Anonymous, DecidedBy = "first-run question", Asked = true },
        ["Prompt answered with local records locally"] = new() { Policy = ConsentPolicy.Prompt, Input = ["2"], Level = TelemetryLevel.Local, DecidedBy = "first-run question", Asked = true },
        ["Prompt with end of input is off"] = new() { Policy = ConsentPolicy.Prompt, Level = TelemetryLevel.Off, DecidedBy = "first-run question", Asked = true },
        ["Prompt is not asked again once answered"] = new() { Policy = ConsentPolicy.Prompt, UserFile = "level = \"local\"\nnotice_version = 1\n", Level = TelemetryLevel.Local, DecidedBy = "user file" },
        ["Prompt is not asked under CI"] = new() { Policy = ConsentPolicy.Prompt, Env = { ["CI"] = "true" }, Input = ["3"], Level = TelemetryLevel.Off, DecidedBy = "default policy" },
        ["Prompt is not asked under GitHub Actions"] = new() { Policy = ConsentPolicy.Prompt, Env = { ["GITHUB_ACTIONS"] = "true" }, Input = ["3"], Level = TelemetryLevel.Off, DecidedBy = "default policy" },
        ["Prompt is not asked under Jenkins"] = new() { Policy = ConsentPolicy.Prompt, Env = { ["JENKINS_URL"] = "http://ci.local/" }, Input = ["3"], Level = TelemetryLevel.Off, DecidedBy = "default policy" },
        ["Prompt is asked when CI=false"] = new() { Policy = ConsentPolicy.Prompt, Env = { ["CI"] = "false" }, Input = ["3"], Level = TelemetryLevel.Anonymous, DecidedBy = "first-run question", Asked = true },
        ["Prompt is not asked without a terminal on stdin"] = new() { Policy = ConsentPolicy.Prompt, Terminal = false, Input = ["3"], Level = TelemetryLevel.Off, DecidedBy = "default policy" },
        ["Prompt is not asked when stderr is not a terminal"] = new() { Policy = ConsentPolicy.Prompt, ErrorTerminal = false, Input = ["3"], Level = TelemetryLevel.Off, DecidedBy = "default policy" },
        ["Prompt is not asked inside a project that refuses telemetry"] = new() { Policy = ConsentPolicy.Prompt, ProjectFile = "consent = false\n", Input = ["3"], Level = TelemetryLevel.Off, DecidedBy = "project file" },
        ["DO_NOT_TRACK wins over the prompt"] = new() { Policy = ConsentPolicy.Prompt, Env = { ["DO_NOT_TRACK"] = "1" }, Input = ["3"], Level = TelemetryLevel.Off, DecidedBy = "DO_NOT_TRACK" },
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void EachSourceAloneAndInConflictGivesTheExpectedLevelAndDecidingSource(string caseName)
    {
        var @case = Cases[caseName];
        using var environment = new FakeEnvironment { IsInputTerminal = @case.Terminal, IsErrorTerminal = @case.Terminal && @case.ErrorTerminal };
        foreach (var (name, value) in @case.Env)
        {
            environment.Variables[name] = value;
        }

        if (@case.UserFile is not null)
        {
            environment.WriteUserFile(@case.UserFile);
        }

        if (@case.ProjectFile is not null)
        {
            environment.WriteProjectFile(@case.ProjectFile, @case.ProjectInParent ? environment.HomeDirectory : null);
        }

        environment.Type(@case.Input);
        var options = AcmeOptions(@case.Policy, @case.NoticeVersion);

        var decision = new ConsentResolver(options, environment).Resolve();

        Assert.Equal(@case.Level, decision.Level);
        Assert.Equal(@case.DecidedBy, decision.DecidedBy);
        Assert.Equal(@case.DecidedBy, Assert.Single(decision.Sources, s => s.Decided).Name);
        Assert.Equal(@case.Notice, environment.Error.Contains("This notice is shown once", StringComparison.Ordinal));
        Assert.Equal(@case.Asked, environment.Error.Contains("Choice [1-4, q]", StringComparison.Ordinal));
        if (@case.Warning is not null)
        {
            Assert.Contains(@case.Warning, environment.Error, StringComparison.Ordinal);
        }

        Assert.Equal(decision.Level >= TelemetryLevel.Anonymous, decision.InstallId is not null);
        Assert.Equal(decision.Level == TelemetryLevel.Identified ? "ada@example.com" : null, decision.UserId);
    }

    internal static CandorOptions AcmeOptions(ConsentPolicy policy = ConsentPolicy.OptOut, int noticeVersion = 1)
    {
        var options = new CandorOptions { ProductName = "acme", DefaultPolicy = policy, NoticeVersion = noticeVersion };
        options.LegacyVariables.Add(new TelemetryVariableAlias("ACME_DISABLE_TELEMETRY", TelemetryAliasPolarity.OffWhenSet));
        options.LegacyVariables.Add(new TelemetryVariableAlias("ACME_ENABLE_TELEMETRY", TelemetryAliasPolarity.OnWhenTrue));
        return options;
    }

    private sealed class ConsentCase
    {
        public Dictionary<string, string> Env { get; } = new(StringComparer.Ordinal);

        public string? UserFile { get; init; }

        public string? ProjectFile { get; init; }

        public bool ProjectInParent { get; init; }

        public ConsentPolicy Policy { get; init; } = ConsentPolicy.OptOut;

        public int NoticeVersion { get; init; } = 1;

        public bool Terminal { get; init; } = true;

        public bool ErrorTerminal { get; init; } = true;

        public string[] Input { get; init; } = [];

        public TelemetryLevel Level { get; init; }

        public string DecidedBy { get; init; } = "";

        public bool Notice { get; init; }

        public bool Asked { get; init; }

        public string? Warning { get; init; }
    }
}
