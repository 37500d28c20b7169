using System.Globalization;
using Xunit.Abstractions;

namespace Candor.EndToEnd.Tests;

/// <summary>
/// The abuse tests' knobs. CI uses the defaults (bounded, a few minutes together); bench/fuzz.sh sets
/// the variables for long runs. Every run prints its seed; CANDOR_FUZZ_SEED replays it.
/// </summary>
internal static class FuzzSettings
{
    private static readonly Lock ReportLock = new();

    /// <summary>How long the fuzz clients send, per store (CANDOR_FUZZ_SECONDS, default 45).</summary>
    public static int Seconds => Integer("CANDOR_FUZZ_SECONDS") ?? 45;

    /// <summary>How many fuzz clients send at once (CANDOR_FUZZ_CLIENTS, default 4).</summary>
    public static int Clients => Integer("CANDOR_FUZZ_CLIENTS") ?? 4;

    /// <summary>Kill -9 cycles per store (CANDOR_FUZZ_CYCLES, default 3).</summary>
    public static int Cycles => Integer("CANDOR_FUZZ_CYCLES") ?? 3;

    /// <summary>Abusive requests before the memory is measured (CANDOR_ABUSE_REQUESTS, default 10,000).</summary>
    public static int AbuseRequests => Integer("CANDOR_ABUSE_REQUESTS") ?? 10_000;

    /// <summary>Requests to send instead of fuzzing, as printed keys "client/number" separated by commas
    /// (CANDOR_FUZZ_REPLAY, with CANDOR_FUZZ_SEED): each is sent once, to reproduce a failure.</summary>
    public static IReadOnlyList<(int Client, long Number)> Replay =>
    [
        .. (Environment.GetEnvironmentVariable("CANDOR_FUZZ_REPLAY") ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(key => key.Split('/'))
            .Select(parts => (int.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture))),
    ];

    /// <summary>The seed: CANDOR_FUZZ_SEED, or a new one (printed, so the run can be replayed).</summary>
    public static int NewSeed() => Integer("CANDOR_FUZZ_SEED") ?? Random.Shared.Next();

    /// <summary>Writes a line to the test's output and, with CANDOR_FUZZ_REPORT set, appends it to that
    /// file (dotnet test shows a passing test's output only at detailed verbosity).</summary>
    public static void Report(ITestOutputHelper output, string text)
    {
        output.WriteLine(text);
        if (Environment.GetEnvironmentVariable("CANDOR_FUZZ_REPORT") is { Length: > 0 } path)
        {
            lock (ReportLock)
            {
                File.AppendAllText(path, text + Environment.NewLine);
            }
        }
    }

    private static int? Integer(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
}

/// <summary>The abuse tests run one at a time, after the others: each drives the collector as hard as
/// two cores allow and measures its memory, which a neighbouring test would distort.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FuzzTestGroup
{
    public const string Name = "Fuzz";
}
