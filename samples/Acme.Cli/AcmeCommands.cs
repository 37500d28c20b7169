using System.CommandLine;
#if !ACME_WITHOUT_CANDOR
using Candor;
using Candor.CommandLine;
#endif

namespace Acme.Cli;

/// <summary>Acme's commands: <c>run --pipeline NAME</c>, <c>new NAME [--telemetry yes|no]</c> and
/// Candor's <c>telemetry</c> command.</summary>
internal sealed class AcmeCommands
{
    private readonly Option<string?> _newTelemetry;

#if ACME_WITHOUT_CANDOR
    public AcmeCommands()
#else
    public AcmeCommands(CandorOptions telemetryOptions)
#endif
    {
        var pipeline = new Option<string>("--pipeline") { Description = "The pipeline to run.", Required = true };
        var environment = new Option<string?>("--env") { Description = "The environment to run in." };
        var run = new Command("run", "Run a pipeline.") { pipeline, environment };
        run.SetAction(parseResult =>
        {
            var name = parseResult.GetValue(pipeline)!;
            Console.WriteLine($"Ran pipeline '{name}'{(parseResult.GetValue(environment) is { } env ? $" in '{env}'" : "")}: 3 nodes, 0 failures.");
            return 0;
        });

        var projectName = new Argument<string>("name") { Description = "The new project's folder name." };
        _newTelemetry = new Option<string?>("--telemetry") { Description = "Whether the project allows usage telemetry: yes or no." };
        _newTelemetry.AcceptOnlyFromAmong("yes", "no");
        var @new = new Command("new", "Create a project.") { projectName, _newTelemetry };
        @new.SetAction(parseResult =>
        {
            var name = parseResult.GetValue(projectName)!;
            Directory.CreateDirectory(name);
            var consent = parseResult.GetValue(_newTelemetry) != "no";
#if !ACME_WITHOUT_CANDOR
            if (!CandorProject.TryCreate(telemetryOptions, name, consent, out var problem))
            {
                Console.Error.WriteLine($"acme: the project's telemetry file was not written: {problem}");
            }
#endif

            Console.WriteLine($"Created project '{name}'{(consent ? "" : " with telemetry turned off")}.");
            return 0;
        });

        Root = new RootCommand("Acme: a demo data-pipeline tool instrumented with Candor.") { run, @new };
#if !ACME_WITHOUT_CANDOR
        Root.Subcommands.Add(TelemetryCommand.Create(telemetryOptions));
#endif
    }

    public RootCommand Root { get; }

#if !ACME_WITHOUT_CANDOR
    /// <summary>Whether this invocation must not be tracked: the <c>telemetry</c> commands change consent
    /// and are never usage, and <c>new --telemetry no</c> refuses telemetry for itself as well.</summary>
    public bool IsUntracked(ParseResult parseResult)
    {
        var command = CommandTracking.CommandPath(parseResult);
        return command == "telemetry" || command.StartsWith("telemetry ", StringComparison.Ordinal)
            || (command == "new" && parseResult.GetValue(_newTelemetry) == "no");
    }
#endif
}
