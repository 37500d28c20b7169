using System.CommandLine;
using Candor.Platform;

namespace Candor.CommandLine;

/// <summary>
/// The <c>telemetry</c> command a tool adds to its root command: <c>status</c>, <c>enable</c>,
/// <c>disable</c>, <c>forget</c> and <c>show</c>. None of them sends anything.
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

        var forget = new Command("forget", "Delete the install id, the user id, unsent events and the transparency log.");
        forget.SetAction(parseResult => actions.Forget(parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error));

        var show = new Command("show", "Print the transparency log: every event recorded on this machine.");
        show.SetAction(parseResult => actions.Show(parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error));

        return new Command("telemetry", $"See and change what {options.ProductName} records and sends.")
        {
            status, enable, disable, forget, show,
        };
    }
}
