using Acme.Cli;
#if !ACME_WITHOUT_CANDOR
using System.Diagnostics;
using Candor;
using Candor.CommandLine;
#endif

// Acme is a pretend data-pipeline tool. Its commands do trivial work; what matters is how it
// wires Candor in: consent resolved once before the command runs, one usage event per command,
// the client disposed at exit.
#if ACME_WITHOUT_CANDOR
// The benchmark's baseline: the same tool with no telemetry at all.
return await new AcmeCommands().Root.Parse(args).InvokeAsync();
#else
var options = AcmeTelemetry.Options();
var commands = new AcmeCommands(options);
var parseResult = commands.Root.Parse(args);
if (commands.IsUntracked(parseResult))
{
    // No client: nothing is resolved, recorded or sent for this invocation.
    return await parseResult.InvokeAsync();
}

using var telemetry = CandorClient.Create(options);
if (telemetry.QuitRequested)
{
    Console.Error.WriteLine("acme: stopped at the telemetry question; nothing was run.");
    return 1;
}

var tracked = CommandTracking.CommandPath(parseResult).Length > 0;
if (tracked)
{
    // This run will record a command event: let the client get delivery ready while the command runs.
    telemetry.WarmUp();
}

var stopwatch = Stopwatch.StartNew();
var exitCode = await parseResult.InvokeAsync();
stopwatch.Stop();

if (tracked)
{
    // The command path, exit code and duration; the arguments too, masked, if the catalog declared them.
    telemetry.TrackCommand(parseResult, exitCode, stopwatch.Elapsed);
}

return exitCode;
#endif
