using System.CommandLine;

namespace Acme.Cli;

/// <summary>Acme's commands: <c>run --pipeline NAME</c> and <c>new NAME</c>.</summary>
internal static class AcmeCommands
{
    public static RootCommand Build()
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
        var @new = new Command("new", "Create a project.") { projectName };
        @new.SetAction(parseResult =>
        {
            var name = parseResult.GetValue(projectName)!;
            Directory.CreateDirectory(name);
            Console.WriteLine($"Created project '{name}'.");
            return 0;
        });

        return new RootCommand("Acme: a demo data-pipeline tool instrumented with Candor.") { run, @new };
    }

    /// <summary>The invoked command's path without the root, e.g. <c>run</c> or <c>telemetry status</c>;
    /// empty for the root command itself.</summary>
    public static string CommandPath(ParseResult parseResult)
    {
        var names = new Stack<string>();
        for (var result = parseResult.CommandResult; result.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
        {
            names.Push(result.Command.Name);
        }

        return string.Join(' ', names);
    }
}
