using System.Globalization;

namespace Candor.Consent;

/// <summary>
/// Reads the files Candor writes itself — flat <c>key = value</c> lines with plain strings, integers
/// and booleans, and comments — without Tomlyn. Every run reads the user file, and loading and
/// compiling a full TOML parser costs tens of milliseconds of startup; this costs almost nothing.
/// Anything outside that subset (tables, escapes, trailing comments, duplicate keys...) returns
/// <see langword="null"/> and Tomlyn reads the file, so the result is always what TOML says.
/// </summary>
/// <remarks>Plain loops on purpose: LINQ and vectorized searches (SearchValues, EnumerateLines) are
/// compiled at startup even in ReadyToRun images and cost more than these few lines.</remarks>
internal static class FlatToml
{
    public static Dictionary<string, object>? TryParse(string text)
    {
        var table = new Dictionary<string, object>(StringComparer.Ordinal);
        var start = 0;
        while (start <= text.Length)
        {
            var end = text.IndexOf('\n', start);
            if (end < 0)
            {
                end = text.Length;
            }

            var line = Trim(text, start, end);
            start = end + 1;
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                return null;
            }

            var key = Trim(line, 0, equals);
            var value = Trim(line, equals + 1, line.Length);
            if (!IsBareKey(key) || table.ContainsKey(key))
            {
                return null;
            }

            object? parsed = value switch
            {
                "true" => true,
                "false" => false,
                ['"', .. var inner, '"'] when IsPlainString(inner) => inner,
                _ => ParseInteger(value) is { } number ? number : null,
            };
            if (parsed is null)
            {
                return null;
            }

            table[key] = parsed;
        }

        return table;
    }

    private static string Trim(string text, int start, int end)
    {
        while (start < end && text[start] is ' ' or '\t')
        {
            start++;
        }

        while (end > start && text[end - 1] is ' ' or '\t' or '\r')
        {
            end--;
        }

        return text[start..end];
    }

    private static bool IsBareKey(string key)
    {
        if (key.Length == 0)
        {
            return false;
        }

        foreach (var c in key)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    // Escapes, quotes and control characters need the full parser.
    private static bool IsPlainString(string value)
    {
        foreach (var c in value)
        {
            if (c is '"' or '\\' || char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }

    private static long? ParseInteger(string value)
    {
        var digits = value is ['+' or '-', .. var rest] ? rest : value;
        if (digits.Length == 0 || (digits.Length > 1 && digits[0] == '0'))
        {
            return null;
        }

        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return null;
            }
        }

        return long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) ? number : null;
    }
}
