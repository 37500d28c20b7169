using System.CommandLine;
using System.CommandLine.Parsing;

namespace Candor.CommandLine;

/// <summary>
/// Command tracking straight from a System.CommandLine <see cref="ParseResult"/>: the command path comes
/// from the parsed command chain, the names that may be kept from the commands and options the parser
/// knows, and every value and unknown token is masked as <c>*****</c>.
/// </summary>
public static class CommandTracking
{
    /// <summary>
    /// Records the command <paramref name="parseResult"/> describes with
    /// <see cref="CandorClient.TrackCommand(string, IEnumerable{string}, IEnumerable{string}, int, TimeSpan, string)"/>:
    /// its path (e.g. <c>run</c>), and, when the event declares <c>arguments</c>, the typed tokens with only
    /// command names, option names and aliases kept (e.g. <c>run --pipeline *****</c>). Never throws.
    /// </summary>
    /// <param name="client">The client to record with.</param>
    /// <param name="parseResult">The parse of the command line that ran.</param>
    /// <param name="exitCode">The command's exit code.</param>
    /// <param name="duration">How long the command took.</param>
    /// <param name="eventName">The declared event to record. Default: <c>command</c>.</param>
    public static void TrackCommand(this CandorClient client, ParseResult parseResult, int exitCode, TimeSpan duration, string eventName = "command")
    {
        ArgumentNullException.ThrowIfNull(client);
        if (parseResult is null)
        {
            return;
        }

        client.TrackCommand(CommandPath(parseResult), Tokens(parseResult), KnownNames(parseResult), exitCode, duration, eventName);
    }

    /// <summary>The invoked command's path without the root command, e.g. <c>run</c> or
    /// <c>telemetry status</c>; empty for the root command itself.</summary>
    public static string CommandPath(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var names = new List<string>();
        for (var result = parseResult.CommandResult; result.Parent is CommandResult parent; result = parent)
        {
            names.Add(result.Command.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>The tokens as the parser read them (directives, commands, options, values, unmatched tokens).</summary>
    internal static IEnumerable<string> Tokens(ParseResult parseResult)
    {
        foreach (var token in parseResult.Tokens)
        {
            yield return token.Value;
        }
    }

    /// <summary>
    /// The names that may appear unmasked: every command of the parsed chain (root excluded: it is not
    /// typed) with its aliases, and every option of those commands with its aliases (inherited options
    /// such as <c>--help</c> included). Argument names are left out: arguments are positional, so their
    /// names are never typed, and keeping them would keep a value that happens to equal one.
    /// </summary>
    internal static HashSet<string> KnownNames(ParseResult parseResult)
    {
        var known = new HashSet<string>(StringComparer.Ordinal);
        for (SymbolResult? result = parseResult.CommandResult; result is CommandResult commandResult; result = result.Parent)
        {
            var command = commandResult.Command;
            if (commandResult.Parent is not null)
            {
                known.Add(command.Name);
                known.UnionWith(command.Aliases);
            }

            foreach (var option in command.Options)
            {
                known.Add(option.Name);
                known.UnionWith(option.Aliases);
            }
        }

        return known;
    }
}
