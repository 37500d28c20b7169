using System.Buffers;
using System.Globalization;

namespace Candor.Consent;

/// <summary>
/// Reads the files Candor writes itself — flat <c>key = value</c> lines with plain strings, integers
/// and booleans, and comments — without Tomlyn. Every run reads the user file, and loading and
/// compiling a full TOML parser costs tens of milliseconds of startup; this costs almost nothing.
/// Anything outside that subset (tables, escapes, trailing comments, duplicate keys...) returns
/// <see langword="null"/> and Tomlyn reads the file, so the result is always what TOML says.
/// </summary>
internal static class FlatToml
{
    private static readonly SearchValues<char> KeyCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

    // Escapes, quotes and control characters need the full parser.
    private static readonly SearchValues<char> NotInPlainStrings = SearchValues.Create(
        "\"\\\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F");

    public static Dictionary<string, object>? TryParse(string text)
    {
        var table = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            var line = rawLine.Trim(" \t").ToString();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                return null;
            }

            var key = line[..equals].TrimEnd(' ', '\t');
            var value = line[(equals + 1)..].TrimStart(' ', '\t');
            if (key.Length == 0 || key.AsSpan().ContainsAnyExcept(KeyCharacters) || table.ContainsKey(key))
            {
                return null;
            }

            object? parsed = value switch
            {
                "true" => true,
                "false" => false,
                ['"', .. var inner, '"'] when !inner.AsSpan().ContainsAny(NotInPlainStrings) => inner,
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

    private static long? ParseInteger(string value)
    {
        var digits = value is ['+' or '-', .. var rest] ? rest : value;
        if (digits.Length == 0 || digits.AsSpan().ContainsAnyExceptInRange('0', '9') || (digits.Length > 1 && digits[0] == '0'))
        {
            return null;
        }

        return long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) ? number : null;
    }
}
