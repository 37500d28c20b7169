using System.CommandLine;
using Candor.Catalog;
using Candor.TestSupport;

namespace Candor.CommandLine.Tests;

public sealed class CommandTrackingTests
{
    private static RootCommand AcmeLikeRoot()
    {
        var pipeline = new Option<string>("--pipeline", "-p") { Description = "The pipeline to run." };
        var environment = new Option<string?>("--env") { Description = "The environment." };
        var verbose = new Option<bool>("--verbose") { Recursive = true };
        var run = new Command("run", "Run a pipeline.") { pipeline, environment };
        var name = new Argument<string>("name");
        var @new = new Command("new", "Create a project.") { name };
        var show = new Command("show");
        var config = new Command("config") { show };
        var root = new RootCommand("acme") { run, @new, config };
        root.Options.Add(verbose);
        return root;
    }

    [Fact]
    public void TheCommandPathIsTheParsedChainWithoutTheRoot()
    {
        var root = AcmeLikeRoot();

        Assert.Equal("run", CommandTracking.CommandPath(root.Parse("run --pipeline nightly")));
        Assert.Equal("config show", CommandTracking.CommandPath(root.Parse("config show")));
        Assert.Equal("", CommandTracking.CommandPath(root.Parse("--help")));
    }

    [Theory]
    [InlineData("run --pipeline nightly --env prod", "run --pipeline ***** --env *****")]
    [InlineData("run -p nightly", "run -p *****")]
    [InlineData("run --pipeline=/home/ana/secret.yml", "run --pipeline *****")]
    [InlineData("run --pipeline nightly --verbose", "run --pipeline ***** --verbose")]
    [InlineData("new name", "new *****")]
    [InlineData("new my-project", "new *****")]
    [InlineData("run --pipeline nightly --unknown value", "run --pipeline ***** ***** *****")]
    [InlineData("run --pipeline run", "run --pipeline run")]
    [InlineData("config show extra", "config show *****")]
    public void EveryValueAndUnknownTokenIsMaskedAndOnlyDeclaredNamesAreKept(string commandLine, string expected)
    {
        var parseResult = AcmeLikeRoot().Parse(commandLine);

        var masked = Redaction.CommandMasking.MaskArguments(CommandTracking.Tokens(parseResult), CommandTracking.KnownNames(parseResult));

        Assert.Equal(expected, masked);
    }

    [Fact]
    public void ArgumentNamesAreNotKeptBecauseTheyAreNeverTyped()
    {
        var known = CommandTracking.KnownNames(AcmeLikeRoot().Parse("new name"));

        Assert.Contains("new", known);
        Assert.DoesNotContain("name", known);
    }

    [Fact]
    public void TrackingAParseResultRecordsThePathExitCodeDurationAndMaskedArguments()
    {
        var catalog = new EventCatalog().Add(new EventDefinition("command", "A command ran.")
            .String("command", "The command path.", maxLength: 100, required: true)
            .Integer("exit_code", "The exit code.", required: true)
            .Integer("duration_ms", "The duration.", minimum: 0, required: true)
            .String("arguments", "The masked arguments.", maxLength: 500));
        // The whole budget: on a loaded machine the default 200 ms can pass before the log is written.
        var options = new CandorOptions { ProductName = "acme", Catalog = catalog, FlushBudget = TimeSpan.FromSeconds(10) };
        using var environment = new FakeEnvironment();
        environment.Variables["ACME_TELEMETRY"] = "local";
        using (var client = CandorClient.CreateInEnvironment(options, environment, TimeProvider.System))
        {
            client.TrackCommand(AcmeLikeRoot().Parse("run --pipeline nightly --env prod"), exitCode: 3, TimeSpan.FromMilliseconds(42));
        }

        // Under local the event goes to the transparency log only: the user's record of what was recorded.
        var printed = File.ReadAllText(Path.Combine(environment.StateDirectory, "transparency.jsonl"));
        Assert.Contains("\"command\":\"run\"", printed, StringComparison.Ordinal);
        Assert.Contains("\"exit_code\":3", printed, StringComparison.Ordinal);
        Assert.Contains("\"duration_ms\":42", printed, StringComparison.Ordinal);
        Assert.Contains("\"arguments\":\"run --pipeline ***** --env *****\"", printed, StringComparison.Ordinal);
        Assert.DoesNotContain("nightly", printed, StringComparison.Ordinal);
        Assert.DoesNotContain("prod", printed, StringComparison.Ordinal);
    }
}
