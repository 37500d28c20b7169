using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

/// <summary>The load generator's options, parsed by System.CommandLine: a mistyped or unknown option is an error.</summary>
internal sealed record LoadOptions(Uri Url, string WriteKey, int Seconds, int Concurrency, int BatchSize, int Rate, string Mode, int? CollectorPid, int PoolBatches, string? Timeline)
{
    /// <summary>The root command; <paramref name="run"/> gets the parsed options and returns the exit code.</summary>
    public static RootCommand Command(Func<LoadOptions, Task<int>> run)
    {
        var url = new Option<Uri>("--url")
        {
            Description = "The collector's base address; loopback only.",
            DefaultValueFactory = _ => new Uri("http://127.0.0.1:5080"),
            CustomParser = ParseUrl,
        };
        var writeKey = new Option<string>("--write-key")
        {
            Description = "The product's write key (X-Candor-Write-Key). Default: $CANDOR_WRITE_KEY, else empty.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CANDOR_WRITE_KEY") ?? "",
        };
        var seconds = Ranged(new Option<int>("--seconds") { Description = "Measured seconds per phase (1–600), after a warm-up of up to 3 s.", DefaultValueFactory = _ => 10 }, 1, 600);
        var concurrency = Ranged(new Option<int>("--concurrency") { Description = "Concurrent clients, each with one request in flight (1–512).", DefaultValueFactory = _ => 16 }, 1, 512);
        var batch = Ranged(new Option<int>("--batch") { Description = "Events per batch (1–1000).", DefaultValueFactory = _ => 100 }, 1, 1000);
        var rate = Ranged(new Option<int>("--rate") { Description = "Events per second over all clients; 0 sends unpaced.", DefaultValueFactory = _ => 0 }, 0, int.MaxValue);
        var mode = new Option<string>("--mode")
        {
            Description = "Which phases: the read-and-discard baseline (/v1/discard), real ingest (/v1/events), or both in that order.",
            DefaultValueFactory = _ => "both",
        };
        mode.AcceptOnlyFromAmong("both", "events", "discard");
        var collectorPid = new Option<int?>("--collector-pid")
        {
            Description = "The collector's process id, to report its peak memory and CPU per event. Default: none.",
            CustomParser = result => ParseInt(result, "--collector-pid", 1, int.MaxValue),
        };
        var pool = new Option<int?>("--pool")
        {
            Description = "Batches built before the clock starts. Default: enough for the warm-up and the measured phase at the paced rate, or at 150k events/s unpaced (at most 200,000).",
            CustomParser = result => ParseInt(result, "--pool", 1, int.MaxValue),
        };
        var timeline = new Option<string?>("--timeline") { Description = "Write the events phase's latencies per 250 ms window to this file, as CSV. Default: none." };

        var root = new RootCommand("Candor load generator: concurrent clients post gzip batches of realistic events to a collector on loopback, first to the read-and-discard baseline, then to /v1/events.")
        {
            url, writeKey, seconds, concurrency, batch, rate, mode, collectorPid, pool, timeline,
        };
        root.SetAction((parseResult, _) =>
        {
            var secondsValue = parseResult.GetValue(seconds);
            var batchValue = parseResult.GetValue(batch);
            var rateValue = parseResult.GetValue(rate);
            // Enough for the warm-up and the measured phase at the paced rate, or at 150k events/s
            // unpaced (beyond the targets); about 5 KB per gzip batch of 100.
            var poolDefault = (int)Math.Max(1, Math.Min(200_000, (long)(rateValue > 0 ? rateValue * 1.1 : 150_000) * (secondsValue + Phase.WarmUpSeconds) / batchValue));
            return run(new LoadOptions(
                parseResult.GetValue(url)!,
                parseResult.GetValue(writeKey) ?? "",
                secondsValue,
                parseResult.GetValue(concurrency),
                batchValue,
                rateValue,
                parseResult.GetValue(mode)!,
                parseResult.GetValue(collectorPid),
                parseResult.GetValue(pool) ?? poolDefault,
                parseResult.GetValue(timeline) is { Length: > 0 } file ? file : null));
        });
        return root;
    }

    // A custom parser rather than a validator: validators also run after a failed conversion
    // ("--seconds five"), and reading the value there throws instead of reporting the error.
    private static Option<int> Ranged(Option<int> option, int min, int max)
    {
        option.CustomParser = result => ParseInt(result, option.Name, min, max) ?? 0;
        return option;
    }

    private static int? ParseInt(ArgumentResult result, string name, int min, int max)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            result.AddError($"{name} takes a whole number, not '{text}'.");
            return null;
        }

        if (value < min || value > max)
        {
            result.AddError(max == int.MaxValue
                ? $"{name} must be at least {min}, not {value}."
                : $"{name} must be between {min} and {max}, not {value}.");
            return null;
        }

        return value;
    }

    private static Uri ParseUrl(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.IsLoopback)
        {
            return uri;
        }

        // The generator sends as fast as it can: never to anything but this machine.
        result.AddError($"--url must be an http or https address on loopback (127.0.0.1 / localhost), not '{text}'.");
        return null!;
    }
}
