using System.Text;

namespace Candor.Redaction;

/// <summary>
/// Masks a command line for telemetry: command names and option names are kept, every value and
/// every unknown token becomes <c>*****</c>, so <c>run --pipeline nightly --env prod</c> is recorded as
/// <c>run --pipeline ***** --env *****</c>. Nothing the user typed as data can leak, whatever the
/// parser's arity rules, because only names the tool itself declared are ever kept.
/// </summary>
public static class CommandMasking
{
    /// <summary>What replaces every value and unknown token.</summary>
    public const string Mask = "*****";

    /// <summary>Masks <paramref name="tokens"/> (the raw arguments, without the program name).</summary>
    /// <param name="tokens">The arguments as the user typed them, e.g. <c>["run", "--pipeline", "nightly"]</c>.</param>
    /// <param name="knownNames">Every command name, option name and alias the tool declares, e.g.
    /// <c>["run", "new", "--pipeline", "-p", "--env"]</c>. Compared ordinally (case-sensitive).</param>
    /// <returns>The masked tokens joined by single spaces. <c>--name=value</c> and <c>/name:value</c> keep the
    /// name when it is known; everything after a <c>--</c> separator is masked.</returns>
    public static string MaskArguments(IEnumerable<string> tokens, IEnumerable<string> knownNames)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(knownNames);
        var known = knownNames as IReadOnlySet<string> ?? new HashSet<string>(knownNames, StringComparer.Ordinal);
        var masked = new StringBuilder();
        var afterSeparator = false;
        foreach (var token in tokens)
        {
            if (masked.Length > 0)
            {
                masked.Append(' ');
            }

            masked.Append(MaskToken(token ?? "", known, ref afterSeparator));
        }

        return masked.ToString();
    }

    private static string MaskToken(string token, IReadOnlySet<string> known, ref bool afterSeparator)
    {
        if (afterSeparator)
        {
            return Mask;
        }

        if (token == "--")
        {
            afterSeparator = true;
            return token;
        }

        if (known.Contains(token))
        {
            return token;
        }

        // --name=value, -n:value, /name:value: the name is kept when declared, the value never.
        if (token.Length > 1 && token[0] is '-' or '/')
        {
            var split = token.IndexOfAny(['=', ':']);
            if (split > 0 && known.Contains(token[..split]))
            {
                return string.Concat(token.AsSpan(0, split + 1), Mask);
            }
        }

        return Mask;
    }
}
