namespace Candor.AspNetCore;

/// <summary>
/// Reduces <c>User-Agent</c> and <c>Accept-Language</c> to the two tokens Candor counts, written into a
/// caller's buffer so a request allocates nothing: the client kind (the first product token with its
/// major version, <c>curl/8</c>, or a browser family, <c>chrome</c>) and the language (the primary
/// subtag of the first entry, <c>en</c>). Everything else in those headers is never looked at beyond
/// the parse, and never kept.
/// </summary>
internal static class ClientKinds
{
    /// <summary>The longest client kind: <c>[a-z0-9._-]</c>, 64 characters with its <c>/major</c>.</summary>
    public const int MaxClientLength = 64;

    /// <summary>A buffer that holds any client kind or language.</summary>
    public const int BufferLength = MaxClientLength;

    public const string None = "none";
    public const string Other = "other";

    // Browsers all start with Mozilla/; the family is read from the product that names it. The order
    // matters: Edge's user agent also names Chrome and Safari, Chrome's also names Safari.
    private static readonly (string Marker, string Family)[] Browsers =
    [
        ("Edg/", "edge"), ("Edge/", "edge"), ("EdgA/", "edge"), ("EdgiOS/", "edge"),
        ("Firefox/", "firefox"), ("FxiOS/", "firefox"),
        ("Chrome/", "chrome"), ("CriOS/", "chrome"), ("Chromium/", "chrome"),
        ("Safari/", "safari"),
    ];

    /// <summary>Writes the client kind of <paramref name="userAgent"/> into <paramref name="destination"/>
    /// (at least <see cref="BufferLength"/> long) and returns its length.</summary>
    public static int Client(ReadOnlySpan<char> userAgent, Span<char> destination)
    {
        userAgent = userAgent.Trim();
        if (userAgent.IsEmpty)
        {
            return Write(None, destination);
        }

        if (userAgent.StartsWith("Mozilla/", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var (marker, family) in Browsers)
            {
                if (userAgent.Contains(marker, StringComparison.Ordinal))
                {
                    return Write(family, destination);
                }
            }

            return Write(Other, destination);
        }

        var end = userAgent.IndexOfAny(' ', '\t', '(');
        var product = end < 0 ? userAgent : userAgent[..end];
        var slash = product.IndexOf('/');
        var name = slash < 0 ? product : product[..slash];
        if (name.IsEmpty || name.Length > MaxClientLength)
        {
            return Write(Other, destination);
        }

        for (var i = 0; i < name.Length; i++)
        {
            var c = char.ToLowerInvariant(name[i]);
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-'))
            {
                return Write(Other, destination);
            }

            destination[i] = c;
        }

        var length = name.Length;
        var version = slash < 0 ? [] : product[(slash + 1)..];
        var digits = 0;
        while (digits < version.Length && char.IsAsciiDigit(version[digits]))
        {
            digits++;
        }

        if (digits == 0)
        {
            return length; // a product without a (numeric) version: its name alone
        }

        if (length + 1 + digits > MaxClientLength)
        {
            return Write(Other, destination);
        }

        destination[length++] = '/';
        version[..digits].CopyTo(destination[length..]);
        return length + digits;
    }

    /// <summary>Writes the language of <paramref name="acceptLanguage"/> into <paramref name="destination"/>
    /// and returns its length: the primary subtag of its first entry, 2 or 3 letters, lower-cased.</summary>
    public static int Language(ReadOnlySpan<char> acceptLanguage, Span<char> destination)
    {
        var comma = acceptLanguage.IndexOf(',');
        var entry = comma < 0 ? acceptLanguage : acceptLanguage[..comma];
        var semicolon = entry.IndexOf(';');
        entry = (semicolon < 0 ? entry : entry[..semicolon]).Trim();
        if (entry.IsEmpty)
        {
            return Write(acceptLanguage.Trim().IsEmpty ? None : Other, destination);
        }

        var dash = entry.IndexOfAny('-', '_');
        var primary = dash < 0 ? entry : entry[..dash];
        if (primary.Length is < 2 or > 3 || primary.ContainsAnyExcept(AsciiLetters))
        {
            return Write(Other, destination);
        }

        return System.Text.Ascii.ToLower(primary, destination, out var written) == System.Buffers.OperationStatus.Done
            ? written
            : Write(Other, destination);
    }

    private static readonly System.Buffers.SearchValues<char> AsciiLetters =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

    private static int Write(string value, Span<char> destination)
    {
        value.CopyTo(destination);
        return value.Length;
    }
}
