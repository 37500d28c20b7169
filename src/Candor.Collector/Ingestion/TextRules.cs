using System.Buffers;

namespace Candor.Collector.Ingestion;

/// <summary>
/// The one rule for text both stores keep: no string may hold U+0000. PostgreSQL's text and jsonb
/// cannot hold it (a COPY with one fails the whole group) and DuckDB cuts a string at it, so the
/// same event would be stored differently, or not at all, depending on the engine. Such strings are
/// refused at ingest (<c>invalid_text</c>), never changed. Unpaired surrogates cannot arrive: the
/// body must be valid UTF-8 and the JSON reader refuses a lone <c>\ud800</c> escape.
/// Excerpts kept of refused input (quarantine, messages) are bounded and have such characters
/// replaced by U+FFFD, so whatever a client sends, what is stored about it is small and storable.
/// </summary>
internal static class TextRules
{
    private static readonly SearchValues<char> Unstorable = SearchValues.Create("\0");

    /// <summary>Whether <paramref name="value"/> (or null) can be stored as it is.</summary>
    public static bool IsStorable(string? value) => value is null || value.AsSpan().IndexOfAny(Unstorable) < 0;

    /// <summary>
    /// The longest value, in bytes of UTF-8, of a field analytics groups by (versions, OS, architecture,
    /// CI name; a command and an error code). Rollups key on up to ten of them at once, and a
    /// PostgreSQL index row holds at most 2,704 bytes: with every field at 1,024 characters one valid
    /// batch failed its whole group there (and DuckDB stored it), so both stores refuse it alike.
    /// Real values are tens of bytes.
    /// </summary>
    public const int MaxDimensionBytes = 200;

    /// <summary>Whether <paramref name="value"/> (or null) fits <see cref="MaxDimensionBytes"/>.</summary>
    public static bool FitsDimension(string? value) =>
        value is null || value.Length * 3 <= MaxDimensionBytes || System.Text.Encoding.UTF8.GetByteCount(value) <= MaxDimensionBytes;

    /// <summary><paramref name="value"/> cut to <paramref name="max"/> characters (an ellipsis marks the
    /// cut) with unstorable characters replaced, for excerpts of refused input.</summary>
    public static string Excerpt(string value, int max)
    {
        var cut = value.Length > max;
        var text = cut ? value[..Math.Max(0, max - 1)] : value;
        if (text.Length > 0 && char.IsHighSurrogate(text[^1]))
        {
            text = text[..^1]; // never leave half a pair at the cut
        }

        if (!IsStorable(text))
        {
            text = text.Replace('\0', '\uFFFD');
        }

        return cut ? text + "…" : text;
    }
}
