using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Candor.Redaction;

/// <summary>
/// Removes what could identify a person or leak a secret from a string before it is queued: URLs,
/// email addresses, secrets (JWTs, cloud keys, GitHub-style tokens, long high-entropy strings), file
/// paths (Unix, Windows, UNC, <c>~</c>, relative), IP addresses, and the user's and machine's names.
/// Each is replaced by a placeholder naming what was there, e.g. <c>&lt;path&gt;</c>.
/// </summary>
/// <remarks>
/// Over-redaction is the safe failure: a usage string that loses a word costs little, a leaked path
/// or token costs trust. Most telemetry strings are short identifiers, so a character scan lets them
/// through without running a single regular expression (the <see cref="CandorClient.Track(string, ReadOnlySpan{EventProperty})"/> hot path).
/// </remarks>
internal sealed partial class Redactor
{
    public const string Path = "<path>";
    public const string Url = "<url>";
    public const string Email = "<email>";
    public const string Ip = "<ip>";
    public const string Secret = "<secret>";
    public const string User = "<user>";
    public const string Host = "<host>";

    /// <summary>Shorter names (e.g. "ci", "dev") are common words; replacing them would mangle usage data.</summary>
    private const int MinimumNameLength = 3;

    private readonly string? _userName;
    private readonly string? _machineName;
    private readonly string? _homeDirectory;

    public Redactor(string? userName, string? machineName, string? homeDirectory)
    {
        _userName = userName is { Length: >= MinimumNameLength } ? userName : null;
        _machineName = machineName is { Length: >= MinimumNameLength } ? machineName : null;
        _homeDirectory = homeDirectory is { Length: > 1 } ? homeDirectory.TrimEnd('/', '\\') : null;
    }

    /// <summary>The redactor for this process's user, machine and home directory.</summary>
    public static Redactor ForCurrentProcess()
    {
        static string? Safe(Func<string?> read)
        {
            try
            {
                return read();
            }
            catch (InvalidOperationException)
            {
                return null;
            }
            catch (PlatformNotSupportedException)
            {
                return null;
            }
        }

        return new Redactor(
            Safe(() => Environment.UserName),
            Safe(() => Environment.MachineName),
            Safe(() => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile)));
    }

    /// <summary>The value with everything sensitive replaced; the same instance when nothing was.</summary>
    public string Redact(string value)
    {
        if (IsPlain(value))
        {
            return value;
        }

        var result = RedactPatterns(value);
        return string.Equals(result, value, StringComparison.Ordinal) ? value : result;
    }

    // Apart from Redact, so that a process whose strings are all plain never compiles a method that
    // names the regular expressions, and never loads System.Text.RegularExpressions.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private string RedactPatterns(string value)
    {
        var result = value;
        if (_homeDirectory is not null && result.Contains(_homeDirectory, StringComparison.OrdinalIgnoreCase))
        {
            result = result.Replace(_homeDirectory, "~", StringComparison.OrdinalIgnoreCase);
        }

        result = UrlPattern().Replace(result, Url);
        result = EmailPattern().Replace(result, Email);
        result = JwtPattern().Replace(result, Secret);
        result = KnownSecretPattern().Replace(result, Secret);
        result = UncPathPattern().Replace(result, Path);
        result = WindowsPathPattern().Replace(result, Path);
        result = HomePathPattern().Replace(result, Path);
        result = UnixPathPattern().Replace(result, Path);
        result = Ipv6Pattern().Replace(result, m => IsIpAddress(m.Value, AddressFamily.InterNetworkV6) ? Ip : m.Value);
        result = Ipv4Pattern().Replace(result, m => IsIpAddress(m.Groups["address"].Value, AddressFamily.InterNetwork) ? Ip : m.Value);
        result = TokenCandidatePattern().Replace(result, m => LooksRandom(m.Value) ? Secret : m.Value);
        result = RelativePathPattern().Replace(result, Path);
        result = ReplaceWord(result, _userName, User);
        result = ReplaceWord(result, _machineName, Host);
        return result;
    }

    /// <summary>True when no pattern could match: only letters, digits, spaces, '-', '_', '*' and ',',
    /// no run long enough to be a token, and neither the user's nor the machine's name. Every pattern
    /// needs another character (':', '/', '\\', '@', '.', '~', '=') or a 20-character run, so such a
    /// string (a masked command line like <c>run --pipeline *****</c>, an enum-like value) skips the
    /// regular expressions entirely — and a short-lived tool that records only such strings never
    /// loads or JIT-compiles them.</summary>
    private bool IsPlain(string value)
    {
        var run = 0;
        foreach (var c in value)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '*')
            {
                // Tokens are at least 20 characters; a shorter run cannot be one.
                if (++run >= 20)
                {
                    return false;
                }
            }
            else if (c is ' ' or ',')
            {
                run = 0;
            }
            else
            {
                return false;
            }
        }

        return (_userName is null || !value.Contains(_userName, StringComparison.OrdinalIgnoreCase)) &&
               (_machineName is null || !value.Contains(_machineName, StringComparison.OrdinalIgnoreCase));
    }

    private static bool IsIpAddress(string candidate, AddressFamily family)
    {
        var address = candidate.Split('%')[0].Trim('[', ']');
        return IPAddress.TryParse(address, out var parsed) && parsed.AddressFamily == family &&
            (family != AddressFamily.InterNetwork || address.Count(c => c == '.') == 3);
    }

    /// <summary>A secret-like token: long, and either hexadecimal or a mix of letter cases and digits
    /// with high per-character entropy. Plain long words and identifiers (snake_case names) pass.</summary>
    internal static bool LooksRandom(string token)
    {
        if (token.Length < 20)
        {
            return false;
        }

        bool upper = false, lower = false, digit = false;
        var hex = true;
        foreach (var c in token)
        {
            upper |= char.IsAsciiLetterUpper(c);
            lower |= char.IsAsciiLetterLower(c);
            digit |= char.IsAsciiDigit(c);
            hex &= char.IsAsciiHexDigit(c) || c == '-';
        }

        if (hex && digit && token.Count(char.IsAsciiHexDigit) >= 24)
        {
            return true; // hashes, UUIDs, hex keys
        }

        var classes = (upper ? 1 : 0) + (lower ? 1 : 0) + (digit ? 1 : 0);
        return classes >= 2 && digit && ShannonEntropy(token) >= 3.5;
    }

    private static double ShannonEntropy(string token)
    {
        Span<int> counts = stackalloc int[128];
        var total = 0;
        foreach (var c in token)
        {
            if (c < 128)
            {
                counts[c]++;
                total++;
            }
        }

        var entropy = 0.0;
        foreach (var count in counts)
        {
            if (count > 0)
            {
                var p = (double)count / total;
                entropy -= p * Math.Log2(p);
            }
        }

        return entropy;
    }

    /// <summary>Replaces every occurrence of <paramref name="word"/> (any case) that is not part of a
    /// longer word, i.e. not preceded or followed by a letter or digit. A plain scan rather than a
    /// runtime-built Regex: constructing one pulls the regex parser and interpreter into every
    /// Native AOT host (about 0.4 MB of binary, paid at each start-up).</summary>
    private static string ReplaceWord(string value, string? word, string placeholder)
    {
        if (string.IsNullOrEmpty(word) || !value.Contains(word, StringComparison.OrdinalIgnoreCase))
        {
            return value;
        }

        var result = new StringBuilder(value.Length);
        var copied = 0;
        var at = value.IndexOf(word, StringComparison.OrdinalIgnoreCase);
        while (at >= 0)
        {
            var end = at + word.Length;
            var next = at + 1;
            if ((at == 0 || !char.IsLetterOrDigit(value[at - 1])) && (end == value.Length || !char.IsLetterOrDigit(value[end])))
            {
                result.Append(value, copied, at - copied).Append(placeholder);
                copied = next = end;
            }

            at = value.IndexOf(word, next, StringComparison.OrdinalIgnoreCase);
        }

        return copied == 0 ? value : result.Append(value, copied, value.Length - copied).ToString();
    }

    // A scheme, then everything up to whitespace or a closing quote: credentials, hosts, paths and
    // query strings all go.
    [GeneratedRegex(@"\b[A-Za-z][A-Za-z0-9+.\-]{1,15}://[^\s""'<>]+", RegexOptions.CultureInvariant)]
    private static partial Regex UrlPattern();

    [GeneratedRegex(@"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}", RegexOptions.CultureInvariant)]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*", RegexOptions.CultureInvariant)]
    private static partial Regex JwtPattern();

    // GitHub (classic and fine-grained), AWS access key ids, Google API keys, Slack, Stripe, npm,
    // Azure connection-string keys, private-key blocks.
    [GeneratedRegex(
        @"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}|AIza[0-9A-Za-z_\-]{35}|xox[abposr]-[A-Za-z0-9\-]{10,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|npm_[A-Za-z0-9]{30,}|glpat-[A-Za-z0-9_\-]{20,})\b" +
        @"|(?:AccountKey|SharedAccessKey|Password|Pwd|Secret|Token|ApiKey|api_key|access_token)\s*[=:]\s*[^\s;,""']+" +
        @"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex KnownSecretPattern();

    // Path segments: a segment followed by a separator may hold single spaces ("Program Files\");
    // the last one may too when it ends in a file extension ("Q3 report.xlsx"), else it stops at the
    // first space so "C:\tmp\out.txt failed" keeps "failed". Over-redaction is the safe side.
    private const string WindowsWord = @"[^\\/:*?""<>|\r\n\s]+";
    private const string WindowsLast = "(?:(?:" + WindowsWord + " )+?" + WindowsWord + @"\.[A-Za-z][A-Za-z0-9]{0,4}\b|" + WindowsWord + ")?";
    private const string UncWord = @"[^\\/*?""<>|\r\n\s]+";
    private const string UncLast = "(?:(?:" + UncWord + " )+?" + UncWord + @"\.[A-Za-z][A-Za-z0-9]{0,4}\b|" + UncWord + ")?";
    private const string UnixWord = @"[^/\s""'(),;\[\]<>]+";
    private const string UnixLast = "(?:(?:" + UnixWord + " )+?" + UnixWord + @"\.[A-Za-z][A-Za-z0-9]{0,4}\b|" + UnixWord + ")";

    // \\server\share\rest and \\?\C:\rest.
    [GeneratedRegex(@"\\\\[^\\/\s""']+(?:\\(?:" + UncWord + "(?: " + UncWord + @")*\\)*" + UncLast + ")?", RegexOptions.CultureInvariant)]
    private static partial Regex UncPathPattern();

    [GeneratedRegex(@"(?<![A-Za-z0-9])[A-Za-z]:[\\/](?:" + WindowsWord + "(?: " + WindowsWord + @")*[\\/])*" + WindowsLast, RegexOptions.CultureInvariant)]
    private static partial Regex WindowsPathPattern();

    [GeneratedRegex(@"(?<![^\s""'=(\[,;:])~[A-Za-z0-9._\-]*(?:[\\/][^\s""'),;\]]*)?", RegexOptions.CultureInvariant)]
    private static partial Regex HomePathPattern();

    // An absolute Unix path starts a word (or follows '=', a quote or a bracket).
    [GeneratedRegex(@"(?<![^\s""'=(\[,;:])/(?:" + UnixWord + "(?: " + UnixWord + ")*/)*" + UnixLast + "/?", RegexOptions.CultureInvariant)]
    private static partial Regex UnixPathPattern();

    [GeneratedRegex(@"(?<![\w.])(?<address>(?:\d{1,3}\.){3}\d{1,3})(?::\d{1,5})?(?![\w.])", RegexOptions.CultureInvariant)]
    private static partial Regex Ipv4Pattern();

    [GeneratedRegex(@"(?<![\w:.])\[?[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:(?<=:)(?:\d{1,3}\.){3}\d{1,3})?(?:%[A-Za-z0-9]+)?\]?(?![\w:.])", RegexOptions.CultureInvariant)]
    private static partial Regex Ipv6Pattern();

    // ./x, ../x, dir/file, dir\file: at least one separator between name characters.
    [GeneratedRegex(@"(?<![\w<>.\-/\\])(?:\.{1,2}[\\/])*[\w.\-]*[A-Za-z_][\w.\-]*(?:[\\/][\w.\-]+)+[\\/]?|(?<![\w<>])\.{1,2}[\\/][\w.\-]*", RegexOptions.CultureInvariant)]
    private static partial Regex RelativePathPattern();

    [GeneratedRegex(@"[A-Za-z0-9+/_\-]{20,}={0,2}", RegexOptions.CultureInvariant)]
    private static partial Regex TokenCandidatePattern();
}
