using System.Diagnostics;
using Acme.Cli;
using Candor.Protocol;

// Acme is a pretend data-pipeline tool. Its commands do trivial work; what matters is how it
// wires Candor in: one client per process, one usage event per command, disposed at exit.
using var telemetry = AcmeTelemetry.CreateClient();

var root = AcmeCommands.Build();
var parseResult = root.Parse(args);
var stopwatch = Stopwatch.StartNew();
var exitCode = await parseResult.InvokeAsync();
stopwatch.Stop();

if (AcmeCommands.CommandPath(parseResult) is { Length: > 0 } command)
{
    telemetry.Track("command", new Dictionary<string, PropertyValue>
    {
        ["command"] = command,
        ["exit_code"] = exitCode,
        ["duration_ms"] = stopwatch.ElapsedMilliseconds,
    });
}

return exitCode;
