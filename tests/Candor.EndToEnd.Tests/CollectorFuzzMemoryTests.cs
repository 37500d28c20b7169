using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Candor.TestSupport;
using Xunit.Abstractions;

namespace Candor.EndToEnd.Tests;

/// <summary>
/// Abuse cannot make the collector keep its memory: after thousands of requests at the documented
/// limits (strings of 1,024 characters, 1 MB gzip bodies, 8 MB decompressed bodies, gzip bombs,
/// batches of rejected events) its resident memory comes back under the 300 MB budget by itself.
/// </summary>
[Collection(FuzzTestGroup.Name)]
public sealed class CollectorFuzzMemoryTests(ITestOutputHelper output)
{
    /// <summary>The collector's memory budget (docs/operator-guide.md): a functional bound on a
    /// documented limit, checked once the abuse is over.</summary>
    private const long BudgetBytes = 300L * 1024 * 1024;

    private const int MaxStringLength = 1024;

    /// <summary>No rate limit: every abusive request is read, decompressed and parsed, the worst case.</summary>
    private static readonly string[] Arguments = ["--Candor:RateLimits:IngestRequestsPerSecond=0"];

    [Theory]
    [InlineData("duckdb")]
    [InlineData("postgres")]
    public async Task AfterTenThousandAbusiveRequestsResidentMemoryReturnsUnderThreeHundredMegabytes(string storage)
    {
        var seed = FuzzSettings.NewSeed();
        var requests = FuzzSettings.AbuseRequests;
        FuzzSettings.Report(output, $"memory {storage}: seed {seed} (replay: CANDOR_FUZZ_SEED={seed}), {requests:N0} abusive requests");

        await using var store = await StorageUnderTest.StartAsync(storage);
        using var data = new TemporaryDirectory("candor-memory");
        await using var collector = await CollectorProcess.StartAsync(data.Path, store.Environment(), Arguments);
        var tally = new FuzzTally();
        var inputs = new AbuseInputs(seed);
        var next = -1;
        var abusing = Stopwatch.StartNew();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                tally.SampleMemory(collector.ProcessId);
                await Task.Delay(250, CancellationToken.None);
            }
        });
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            using var http = FuzzTraffic.CreateClient(collector.BaseAddress);
            for (var number = Interlocked.Increment(ref next); number < requests; number = Interlocked.Increment(ref next))
            {
                var request = inputs.Create(number);
                var (status, body, failure) = await FuzzTraffic.SendAsync(http, collector.BaseAddress, request);
                tally.Count(request.Description, status, body, failure);
            }
        })).ToArray();
        await Task.WhenAll(clients);
        abusing.Stop();
        await sampling.CancelAsync();
        await sampler;

        var afterAbuse = ResidentMemory.Read(collector.ProcessId);
        // Once a second, up to a minute, until it is under the budget.
        ResidentMemory? settled = afterAbuse;
        var waited = 0;
        while (settled is { } m && m.CurrentBytes >= BudgetBytes && waited < 60)
        {
            await Task.Delay(1000);
            waited++;
            settled = ResidentMemory.Read(collector.ProcessId);
        }

        using var readiness = FuzzTraffic.CreateClient(collector.BaseAddress);
        using var ready = await readiness.GetAsync("/readyz");
        // Whether what is kept is the managed heap or native memory (DuckDB, buffers outside the GC).
        var managed = ManagedHeapMegabytes(await readiness.GetStringAsync("/metrics"));
        FuzzSettings.Report(output, new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"memory {storage}, seed {seed}: {tally.Requests:N0} requests in {abusing.Elapsed.TotalSeconds:F0} s")
            .Append(tally.Histogram())
            .AppendLine(CultureInfo.InvariantCulture, $"  collector memory: peak {afterAbuse?.PeakMegabytes ?? 0:F1} MB (VmHWM), {afterAbuse?.CurrentMegabytes ?? 0:F1} MB when the abuse ended, {settled?.CurrentMegabytes ?? 0:F1} MB after {waited} s more, managed heap {managed:F1} MB")
            .ToString());

        Assert.True(settled is not null, "The collector exited during the abuse:\n" + collector.Output);
        var problems = new List<string>();
        if (settled.Value.CurrentBytes >= BudgetBytes)
        {
            problems.Add($"the collector's resident memory is {settled.Value.CurrentMegabytes:F1} MB a minute after the abuse (budget 300 MB; peak {settled.Value.PeakMegabytes:F1} MB, managed heap {managed:F1} MB)");
        }

        if (tally.ServerErrors > 0)
        {
            // A refused request did less work than it should have: the memory would be measured on less.
            problems.Add($"{tally.ServerErrors:N0} abusive requests were answered 5xx:\n{tally.Histogram()}    " + string.Join("\n    ", FuzzTally.StackTraces(collector.Output).Take(6)));
        }

        if (ready.StatusCode != System.Net.HttpStatusCode.OK)
        {
            problems.Add($"/readyz answered {(int)ready.StatusCode} after the abuse");
        }

        Assert.True(problems.Count == 0, $"seed {seed}:\n" + string.Join("\n", problems));
    }

    private static double ManagedHeapMegabytes(string metrics) =>
        metrics.Split('\n').Where(l => l.StartsWith("dotnet_total_memory_bytes ", StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(' ')[1], CultureInfo.InvariantCulture) / 1048576.0).FirstOrDefault(double.NaN);

    /// <summary>The abusive requests, from a seed; the heavy bodies are made once and sent many times
    /// (the collector gets no cheaper for having seen a body before).</summary>
    private sealed class AbuseInputs
    {
        private readonly int _seed;
        private readonly byte[][] _bigRejected;
        private readonly byte[] _bomb;
        private readonly byte[][] _eightMegabytes;

        public AbuseInputs(int seed)
        {
            _seed = seed;
            var random = new Random(seed);
            // Just under the 1 MB compressed limit: one event whose command is a random string of about
            // a million characters (random text barely compresses), rejected as too long.
            _bigRejected = [.. Enumerable.Range(0, 8).Select(i =>
            {
                var root = FuzzInputs.Base(seed, -1, i, DateTimeOffset.UtcNow, events: 1);
                var command = RandomText(random, 1_400_000);
                byte[] gzip;
                do
                {
                    command = command[..(command.Length * 9 / 10)];
                    ((JsonArray)root["events"]!)[0]!["properties"]!["command"] = command;
                    gzip = FuzzInputs.Gzip(FuzzInputs.Serialize(root));
                }
                while (gzip.Length > 1_000_000);
                return gzip;
            })];
            // 8 MB decompressed, accepted the first time and a duplicate after: a valid batch padded
            // with spaces to the limit, which the collector reads, inflates and parses in full each time.
            _eightMegabytes = [.. Enumerable.Range(0, 8).Select(i =>
            {
                var json = FuzzInputs.Serialize(FuzzInputs.Base(seed, -3, i, DateTimeOffset.UtcNow, events: 1));
                var padded = new byte[(8 * 1024 * 1024) - 16];
                Array.Fill(padded, (byte)' ');
                json.AsSpan(0, json.Length - 1).CopyTo(padded);
                padded[^1] = (byte)'}';
                return FuzzInputs.Gzip(padded);
            })];
            _bomb = FuzzInputs.Gzip([.. "{\"events\":["u8, .. Enumerable.Repeat((byte)' ', 64 * 1024 * 1024)], System.IO.Compression.CompressionLevel.SmallestSize);
        }

        public FuzzRequest Create(int number)
        {
            var random = new Random(FuzzInputs.Mix(_seed, -2, number, 0));
            var now = DateTimeOffset.UtcNow;
            var key = number.ToString(CultureInfo.InvariantCulture);
            switch (random.Next(100))
            {
                case < 50:
                {
                    // Accepted and stored: every free-text context field at its limit (1,024 characters; 200
                    // bytes for those analytics groups by), the command at its schema's.
                    var root = FuzzInputs.Base(_seed, -2, number, now, events: 2);
                    var context = (JsonObject)root["context"]!;
                    foreach (var field in FuzzInputs.FreeTextContextFields)
                    {
                        context[field] = RandomText(random, FuzzInputs.DimensionFields.Contains(field) ? FuzzInputs.MaxDimensionBytes : MaxStringLength);
                    }

                    foreach (var e in (JsonArray)root["events"]!)
                    {
                        e!["properties"]!["command"] = RandomText(random, 100);
                    }

                    return Gzipped(key, "strings at the limits, accepted", root);
                }

                case < 60:
                    return new FuzzRequest { Key = key, Description = "1 MB gzip, rejected event", Body = _bigRejected[random.Next(_bigRejected.Length)], ContentEncoding = "gzip" };
                case < 85:
                {
                    // Rejected into the quarantine: 50 events with undeclared properties of 1,000 characters.
                    var root = FuzzInputs.Base(_seed, -2, number, now, events: 50);
                    foreach (var e in (JsonArray)root["events"]!)
                    {
                        e!["properties"]!["host"] = RandomText(random, 1000);
                    }

                    return Gzipped(key, "50 rejected events", root);
                }

                case < 93:
                    return new FuzzRequest { Key = key, Description = "8 MB decompressed", Body = _eightMegabytes[random.Next(_eightMegabytes.Length)], ContentEncoding = "gzip" };
                default:
                    return new FuzzRequest { Key = key, Description = "gzip bomb", Body = _bomb, ContentEncoding = "gzip" };
            }
        }

        private static FuzzRequest Gzipped(string key, string description, JsonNode root) =>
            new() { Key = key, Description = description, Body = FuzzInputs.Gzip(FuzzInputs.Serialize(root)), ContentEncoding = "gzip" };

        private static string RandomText(Random random, int length)
        {
            const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_ ./";
            return string.Create(length, random, (span, r) =>
            {
                for (var i = 0; i < span.Length; i++)
                {
                    span[i] = Alphabet[r.Next(Alphabet.Length)];
                }
            });
        }
    }
}
