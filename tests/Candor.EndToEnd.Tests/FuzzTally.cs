using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>
/// What an abuse run observed: answers by status and code, the offending requests (kept up to a
/// handful, counted all), the event ids the collector acknowledged, and the collector's memory.
/// Thread-safe: every client records into one tally.
/// </summary>
internal sealed partial class FuzzTally
{
    private const int KeptOffenders = 30;
    private readonly ConcurrentDictionary<string, int> _answers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, string> _acknowledged = new();
    private readonly List<string> _offenders = [];
    private readonly HashSet<string> _offenderKinds = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private long _requests;
    private long _serverErrors;
    private int _offenderCount;
    private long _peakResidentBytes;

    /// <summary>Event ids acknowledged (accepted or duplicate), with who sent them.</summary>
    public IReadOnlyDictionary<Guid, string> Acknowledged => _acknowledged;

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Answers with a status of 500 or more.</summary>
    public long ServerErrors => Interlocked.Read(ref _serverErrors);

    public int OffenderCount => Volatile.Read(ref _offenderCount);

    public IReadOnlyList<string> Offenders
    {
        get
        {
            lock (_lock)
            {
                return [.. _offenders];
            }
        }
    }

    public long PeakSampledResidentBytes => Interlocked.Read(ref _peakResidentBytes);

    /// <summary>Counts one answer (<paramref name="status"/> null: none came, <paramref name="failure"/> says why).</summary>
    public void Count(string who, int? status, string body, string? failure)
    {
        Interlocked.Increment(ref _requests);
        if (status >= 500)
        {
            Interlocked.Increment(ref _serverErrors);
        }

        // A 2xx body holds per-event codes, not an error code: its bucket is the status alone.
        var bucket = status is { } s
            ? string.Create(CultureInfo.InvariantCulture, $"{who} {s} {(s is >= 200 and < 300 ? "" : ErrorCode(body))}").TrimEnd()
            : $"{who} no answer: {TransportKind(failure)}";
        _answers.AddOrUpdate(bucket, 1, (_, n) => n + 1);
    }

    /// <summary>Records a request that broke a rule. The first of each kind is kept with its details
    /// (<paramref name="kind"/>: the line without what differs between requests of one mutation).</summary>
    public void Offend(string line, string? kind = null)
    {
        Interlocked.Increment(ref _offenderCount);
        kind ??= line;
        lock (_lock)
        {
            if (_offenders.Count < KeptOffenders && _offenderKinds.Add(Digits().Replace(kind, "#")))
            {
                _offenders.Add(line);
            }
        }
    }

    /// <summary>Takes the ids a 2xx answer acknowledged (accepted or duplicate); returns how many of the
    /// answer's results were rejected.</summary>
    public int Acknowledge(string who, string body)
    {
        var rejected = 0;
        try
        {
            using var document = JsonDocument.Parse(body);
            if (!document.RootElement.TryGetProperty("results", out var results) || results.ValueKind != JsonValueKind.Array)
            {
                return 0;
            }

            foreach (var result in results.EnumerateArray())
            {
                var status = result.TryGetProperty("status", out var s) ? s.GetString() : null;
                if (status is "accepted" or "duplicate" && result.TryGetProperty("id", out var id) && id.TryGetGuid(out var guid))
                {
                    _acknowledged.TryAdd(guid, who);
                }
                else
                {
                    rejected++;
                }
            }
        }
        catch (JsonException)
        {
            Offend($"{who}: a 2xx answer whose body is not JSON: {Snippet(body)}");
        }

        return rejected;
    }

    public void SampleMemory(int processId)
    {
        if (ResidentMemory.Read(processId) is { } memory)
        {
            var peak = Interlocked.Read(ref _peakResidentBytes);
            while (memory.CurrentBytes > peak && Interlocked.CompareExchange(ref _peakResidentBytes, memory.CurrentBytes, peak) != peak)
            {
                peak = Interlocked.Read(ref _peakResidentBytes);
            }
        }
    }

    /// <summary>The answers histogram, most frequent first.</summary>
    public string Histogram()
    {
        var text = new StringBuilder();
        foreach (var (bucket, count) in _answers.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"  {count,8:N0}  {bucket}").AppendLine();
        }

        return text.ToString();
    }

    /// <summary>The code of a {"code","message"} body, if it is one.</summary>
    public static string? ErrorCode(string body)
    {
        var match = CodePattern().Match(body.Length > 4096 ? body[..4096] : body);
        return match.Success ? match.Groups[1].Value : null;
    }

    public static string Snippet(string text, int length = 160)
    {
        var oneLine = text.ReplaceLineEndings(" ");
        return oneLine.Length <= length ? oneLine : oneLine[..length] + "…";
    }

    /// <summary>Stack frames and unhandled-exception reports in the collector's output (the console
    /// logger prints an exception on the log line, so frames appear inline), one line per kind (the
    /// exception's type, message and first frame) with how often it came.</summary>
    public static IReadOnlyList<string> StackTraces(string output) =>
    [
        .. output.Split('\n')
            .Where(line => StackFrame().IsMatch(line) || line.Contains("unhandled exception", StringComparison.OrdinalIgnoreCase))
            .GroupBy(TraceKind, StringComparer.Ordinal)
            .Select(group => $"{group.Count()}× {Snippet(group.First().Trim(), 500)}"),
    ];

    private static string TraceKind(string line)
    {
        // "hh:mm:ss fail: Category[13] Connection id "…", Request id "…": An unhandled exception … Type: message    at Frame(…) …"
        var start = line.IndexOf("exception was thrown by the application.", StringComparison.Ordinal);
        var text = start >= 0 ? line[start..] : line.Length > 9 ? line[9..] : line;
        var frame = StackFrame().Match(text);
        var end = frame.Success ? frame.Index + frame.Length : text.Length;
        var second = frame.Success ? StackFrame().Match(text, end) : Match.Empty;
        return Digits().Replace(text[..(second.Success ? second.Index + second.Length : end)], "#");
    }

    /// <summary>Lines the collector logged at error level or above.</summary>
    public static int ErrorLines(string output) =>
        output.Split('\n').Count(line => line.Contains("fail:", StringComparison.Ordinal) || line.Contains("crit:", StringComparison.Ordinal));

    private static string TransportKind(string? failure)
    {
        if (failure is null)
        {
            return "unknown";
        }

        // Keep the bucket count small: the kind of failure, not its details.
        var colon = failure.IndexOf(':', StringComparison.Ordinal);
        var kind = colon < 0 ? failure : failure[..colon];
        return kind.Length > 60 ? kind[..60] : kind;
    }

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();

    [GeneratedRegex("\"code\"\\s*:\\s*\"([^\"]{1,64})\"")]
    private static partial Regex CodePattern();

    [GeneratedRegex(@"\bat [A-Za-z_][\w.`<>|+]*\.[\w<>`|.]+\(")]
    private static partial Regex StackFrame();
}
