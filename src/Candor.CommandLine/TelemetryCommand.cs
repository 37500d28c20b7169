using System.CommandLine;
using Candor.Platform;

namespace Candor.CommandLine;

/// <summary>
/// The <c>telemetry</c> command a tool adds to its root command: <c>status</c>, <c>enable</c>,
/// <c>disable</c>, <c>forget</c> and <c>show</c>. Only <c>forget</c> (which asks the collector to delete
/// the install's data) and <c>show --server</c> (which asks what it holds) send anything.
/// </summary>
public static class TelemetryCommand
{
    /// <summary>Creates the <c>telemetry</c> command for a tool configured with <paramref name="options"/>
    /// (the same options the tool gives <see cref="CandorClient.Create(CandorOptions)"/>).</summary>
    /// <exception cref="ArgumentException">The options are invalid (every problem is listed).</exception>
    public static Command Create(CandorOptions options) => Create(options, SystemEnvironment.Instance);

    internal static Command Create(CandorOptions options, ICandorEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid Candor options: " + string.Join(" ", errors), nameof(options));
        }

        var actions = new TelemetryActions(options, environment);

        var status = new Command("status", "Show the effective telemetry level, every source and which one decided, files and ids.");
        status.SetAction(parseResult => actions.Status(parseResult.InvocationConfiguration.Output));

        var level = new Option<string?>("--level") { Description = "local, anonymous or identified. Default: anonymous (identified with --user-id)." };
        level.AcceptOnlyFromAmong("local", "anonymous", "identified");
        var userId = new Option<string?>("--user-id") { Description = "The id sent in identified mode: an email address or a UUID." };
        var enable = new Command("enable", "Turn telemetry on and save the choice.") { level, userId };
        enable.SetAction(parseResult => actions.Enable(
            parseResult.GetValue(level), parseResult.GetValue(userId), parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error));

        var disable = new Command("disable", "Turn telemetry off, delete the install id and every unsent event. Sends nothing.");
        disable.SetAction(parseResult => actions.Disable(parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error));

        var forget = new Command("forget",
            "Delete the install id, the user id, unsent events and the transparency log, and ask the collector to delete what it holds for the install.");
        forget.SetAction(parseResult => actions.Forget(parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error));

        var server = new Option<bool>("--server") { Description = "Ask the collector what it holds for this install and print it as JSON." };
        var schema = new Option<bool>("--schema") { Description = "Print every event the tool may send, with each property's type, meaning and bounds." };
        var show = new Command("show", "Print the transparency log: every event recorded on this machine.") { server, schema };
        show.SetAction(parseResult => actions.Show(parseResult.GetValue(server), parseResult.GetValue(schema),
            parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error));

        return new Command("telemetry", $"See and change what {options.ProductName} records and sends.")
        {
            status, enable, disable, forget, show,
        };
    }
}
