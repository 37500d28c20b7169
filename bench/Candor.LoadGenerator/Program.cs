using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

// Candor load generator. Many concurrent clients post gzip batches of realistic events to a
// collector on loopback for a fixed time, first to the read-and-discard baseline endpoint
// (/v1/discard: same HTTP and gunzip work, nothing stored), then to /v1/events, and report
// events/s, latency percentiles, errors and, given the collector's pid, its peak memory.
// The batches (fresh event ids each) are built and gzipped before the clock starts, so that on a
// machine the generator shares with the collector, its CPU goes to sending, not to building them;
// a run that uses up the pool builds the rest as it goes and says how many.
//
//   dotnet run -c Release --project bench/Candor.LoadGenerator -- --url http://127.0.0.1:5080 \
//     --write-key KEY --seconds 60 --concurrency 16 [--rate 50000] [--mode both|events|discard] [--collector-pid PID]
//     [--timeline FILE: the events phase's latencies per 250 ms window, as CSV]
// `--help` lists every option with its default (LoadOptions.cs); an unknown or mistyped option is an error.

return await LoadOptions.Command(RunAsync).Parse(args).InvokeAsync();

static async Task<int> RunAsync(LoadOptions options)
{
    using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency, UseProxy = false, UseCookies = false };
    using var http = new HttpClient(handler) { BaseAddress = options.Url, Timeout = TimeSpan.FromSeconds(30) };

    Console.WriteLine($"Candor load generator: {options.Concurrency} clients, batches of {options.BatchSize}, {options.Seconds} s per phase, " +
        (options.Rate > 0 ? $"paced at {options.Rate} events/s" : "unpaced") + $", against {options.Url}");
    var pool = BatchPool.Build(options);
    var results = new List<PhaseResult>();
    if (options.Mode is "both" or "discard")
    {
        // The baseline stores nothing, so it may send the pool's batches again (and again): they are
        // still all new to the events phase.
        results.Add(await Phase.RunAsync("discard", "/v1/discard", http, options, pool.Cycling()));
    }

    if (options.Mode is "both" or "events")
    {
        var batches = pool.Once();
        results.Add(await Phase.RunAsync("events", "/v1/events", http, options, batches));
        if (options.Timeline is { } timeline)
        {
            Phase.WriteTimeline(timeline, results[^1]);
        }
        if (batches.BuiltLive > 0)
        {
            Console.WriteLine($"events: the pool ran out; {batches.BuiltLive} batches were built during the run.");
        }
    }

    Console.WriteLine();
    Console.WriteLine("| phase | requests | events/s | p50 ms | p99 ms | max ms | p99 from schedule ms | errors | collector peak RSS MB | CPU µs/event: collector / postgres / generator |");
    Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    foreach (var r in results)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {r.Name} | {r.Requests} | {r.EventsPerSecond:F0} | {r.P50:F1} | {r.P99:F1} | {r.Max:F1} | {(r.P99FromSchedule is { } s ? s.ToString("F1", CultureInfo.InvariantCulture) : "-")} | {r.ErrorSummary} | {(r.PeakRssMb > 0 ? r.PeakRssMb.ToString("F0", CultureInfo.InvariantCulture) : "-")} | {r.CpuPerEvent} |"));
    }

    if (results.Count == 2 && results[0].EventsPerSecond > 0)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Ingest throughput is {results[1].EventsPerSecond / results[0].EventsPerSecond:P0} of the read-and-discard baseline."));
    }

    return results.Any(r => r.Errors.Count > 0) ? 1 : 0;
}

/// <summary>
/// One phase's figures. <c>P99FromSchedule</c> (paced runs only) is the p99 of the time from when
/// each request was due (its slot in the pacing schedule) to its answer. A client waits for each
/// answer before it sends again, so while the collector stalls, the requests that would have been
/// sent are not, and the plain latencies miss that wait (coordinated omission); this figure counts it.
/// </summary>
internal sealed record PhaseResult(string Name, long Requests, double EventsPerSecond, double P50, double P99, double Max, double? P99FromSchedule, Dictionary<string, int> Errors, double PeakRssMb, CpuTime CpuPerEvent, Client[] Clients)
{
    public string ErrorSummary => Errors.Count == 0 ? "0" : string.Join(" ", Errors.Select(e => $"{e.Key}×{e.Value}"));
}

internal static class Phase
{
    public const int WarmUpSeconds = 3;

    public static async Task<PhaseResult> RunAsync(string name, string path, HttpClient http, LoadOptions options, BatchSource batches)
    {
        Console.Write($"{name}: warming up… ");
        await RunClientsAsync(path, http, options, TimeSpan.FromSeconds(Math.Min(WarmUpSeconds, options.Seconds)), null, batches);
        Console.Write("measuring… ");
        using var memory = new MemorySampler(options.CollectorPid);
        var cpuBefore = CpuTime.Sample(options.CollectorPid);
        var stopwatch = Stopwatch.StartNew();
        var clients = await RunClientsAsync(path, http, options, TimeSpan.FromSeconds(options.Seconds), memory, batches);
        stopwatch.Stop();
        var cpu = CpuTime.Sample(options.CollectorPid) - cpuBefore;

        var latencies = clients.SelectMany(c => c.Latencies).Order().ToArray();
        var fromSchedule = clients.SelectMany(c => c.LatenciesFromSchedule).Order().ToArray();
        var errors = new Dictionary<string, int>();
        foreach (var (code, count) in clients.SelectMany(c => c.Errors))
        {
            errors[code] = errors.GetValueOrDefault(code) + count;
        }

        var events = clients.Sum(c => c.Events);
        Console.WriteLine("done.");
        return new PhaseResult(name, latencies.LongLength, events / stopwatch.Elapsed.TotalSeconds,
            Percentile(latencies, 0.50), Percentile(latencies, 0.99), latencies.Length > 0 ? latencies[^1] : 0,
            options.Rate > 0 ? Percentile(fromSchedule, 0.99) : null, errors, memory.PeakMb, cpu.PerEvent(events), clients);
    }

    /// <summary>
    /// Writes the phase's latencies in windows of 250 ms by when each request was due (paced) or
    /// sent: unix time, requests, p50, p99 and max ms, as CSV — to see when the slow ones came.
    /// </summary>
    public static void WriteTimeline(string path, PhaseResult result)
    {
        var windowTicks = Stopwatch.Frequency / 4;
        var offsetSeconds = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 - Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
        var windows = result.Clients.SelectMany(c => c.Timeline)
            .GroupBy(t => t.Due / windowTicks)
            .OrderBy(g => g.Key);
        using var writer = new StreamWriter(path);
        writer.WriteLine("unix_time,requests,p50_ms,p99_ms,max_ms");
        foreach (var window in windows)
        {
            var sorted = window.Select(t => t.Milliseconds).Order().ToArray();
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{window.Key * windowTicks / (double)Stopwatch.Frequency + offsetSeconds:F2},{sorted.Length},{Percentile(sorted, 0.5):F1},{Percentile(sorted, 0.99):F1},{sorted[^1]:F1}"));
        }
    }

    private static async Task<Client[]> RunClientsAsync(string path, HttpClient http, LoadOptions options, TimeSpan duration, MemorySampler? memory, BatchSource batches)
    {
        var clients = Enumerable.Range(0, options.Concurrency).Select(_ => new Client(batches)).ToArray();
        var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var interval = options.Rate > 0 ? TimeSpan.FromSeconds((double)options.BatchSize * options.Concurrency / options.Rate) : TimeSpan.Zero;
        await Task.WhenAll(clients.Select(c => Task.Run(() => c.RunAsync(path, http, options, deadline, interval))));
        memory?.Sample();
        return clients;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

/// <summary>One client: takes the next batch from the pool for every request and posts it.</summary>
internal sealed class Client(BatchSource batches)
{
    private readonly Random _random = new();

    public List<double> Latencies { get; } = new(16_384);

    /// <summary>Paced runs: from each request's slot in the schedule to its answer.</summary>
    public List<double> LatenciesFromSchedule { get; } = new(16_384);

    /// <summary>When each request was due (or sent) and how long until its answer, for the timeline.</summary>
    public List<(long Due, double Milliseconds)> Timeline { get; } = new(16_384);

    public Dictionary<string, int> Errors { get; } = [];

    public long Events { get; private set; }

    public async Task RunAsync(string path, HttpClient http, LoadOptions options, long deadline, TimeSpan interval)
    {
        var next = Stopwatch.GetTimestamp() + (long)(_random.NextDouble() * interval.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var due = next;
            if (interval > TimeSpan.Zero)
            {
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }

                next += (long)(interval.TotalSeconds * Stopwatch.Frequency);
            }

            var body = batches.Next();
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Content.Headers.ContentEncoding.Add("gzip");
            request.Headers.Add("X-Candor-Write-Key", options.WriteKey);
            var started = Stopwatch.GetTimestamp();
            if (interval == TimeSpan.Zero)
            {
                due = started;
            }

            try
            {
                using var response = await http.SendAsync(request);
                await response.Content.ReadAsByteArrayAsync();
                Latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Timeline.Add((due, Stopwatch.GetElapsedTime(due).TotalMilliseconds));
                if (interval > TimeSpan.Zero)
                {
                    LatenciesFromSchedule.Add(Stopwatch.GetElapsedTime(due).TotalMilliseconds);
                }
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    Events += options.BatchSize;
                }
                else
                {
                    Count(((int)response.StatusCode).ToString(CultureInfo.InvariantCulture));
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                Count(ex.GetType().Name);
            }
        }
    }

    private void Count(string code) => Errors[code] = Errors.GetValueOrDefault(code) + 1;
}

/// <summary>Builds gzip batches of realistic acme events, each with new event ids.</summary>
internal sealed class BatchBuilder(int seed, int size)
{
    private static readonly string[] Commands = ["run", "new", "pipeline list", "pipeline show", "run --watch", "telemetry status", "login", "deploy"];
    private static readonly string[] Versions = ["1.4.0", "1.4.1", "1.3.2", "2.0.0-preview.3"];
    private static readonly string[] Os = ["linux", "windows", "macos"];
    private readonly Random _random = new(seed);
    private readonly ArrayBufferWriter<byte> _json = new(32 * 1024);

    public byte[] Build()
    {
        _json.ResetWrittenCount();
        var now = DateTimeOffset.UtcNow;
        using (var writer = new Utf8JsonWriter(_json))
        {
            writer.WriteStartObject();
            writer.WriteString("sent_at", now);
            writer.WriteStartObject("context");
            writer.WriteString("product", "acme");
            writer.WriteString("product_version", Versions[_random.Next(Versions.Length)]);
            writer.WriteString("initial_version", "1.2.0");
            writer.WriteString("sdk_version", "0.1.0");
            writer.WriteString("runtime_version", "10.0.0");
            writer.WriteString("os_family", Os[_random.Next(Os.Length)]);
            writer.WriteString("os_version", "Debian GNU/Linux 12 (bookworm)");
            writer.WriteString("architecture", "x64");
            writer.WriteBoolean("ci", _random.Next(4) == 0);
            writer.WriteString("session_id", Guid.CreateVersion7());
            writer.WriteString("install_id", Guid.CreateVersion7());
            writer.WriteEndObject();
            writer.WriteStartArray("events");
            for (var i = 0; i < size; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("id", Guid.CreateVersion7());
                writer.WriteString("name", "command");
                writer.WriteString("version", "1-0-0");
                writer.WriteString("time", now.AddMilliseconds(-_random.Next(60_000)));
                writer.WriteStartObject("properties");
                writer.WriteString("command", Commands[_random.Next(Commands.Length)]);
                writer.WriteNumber("exit_code", _random.Next(10) == 0 ? 1 : 0);
                writer.WriteNumber("duration_ms", _random.Next(5, 30_000));
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        using var output = new MemoryStream(_json.WrittenCount / 4);
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(_json.WrittenSpan);
        }

        return output.ToArray();
    }
}

/// <summary>
/// Batches built before the clock starts (on every core), handed out one per request. A source
/// from <see cref="Once"/> hands each batch out once and then builds new ones as it goes (counted in
/// <see cref="BatchSource.BuiltLive"/>); one from <see cref="Cycling"/> starts again from the first.
/// </summary>
internal sealed class BatchPool
{
    private readonly byte[][] _batches;
    private readonly int _batchSize;

    private BatchPool(byte[][] batches, int batchSize) => (_batches, _batchSize) = (batches, batchSize);

    public static BatchPool Build(LoadOptions options)
    {
        Console.Write($"building {options.PoolBatches} batches… ");
        var stopwatch = Stopwatch.StartNew();
        var batches = new byte[options.PoolBatches][];
        var workers = Environment.ProcessorCount;
        Parallel.For(0, workers, w =>
        {
            var builder = new BatchBuilder(w, options.BatchSize);
            for (var i = w; i < batches.Length; i += workers)
            {
                batches[i] = builder.Build();
            }
        });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{batches.Sum(b => (long)b.Length) / 1e6:F0} MB in {stopwatch.Elapsed.TotalSeconds:F1} s."));
        return new BatchPool(batches, options.BatchSize);
    }

    public BatchSource Once() => new(_batches, cycle: false, _batchSize);

    public BatchSource Cycling() => new(_batches, cycle: true, _batchSize);
}

internal sealed class BatchSource(byte[][] batches, bool cycle, int batchSize)
{
    private readonly BatchBuilder _live = new(seed: 1000, batchSize);
    private long _next = -1;
    private long _builtLive;

    public long BuiltLive => Interlocked.Read(ref _builtLive);

    public byte[] Next()
    {
        var index = Interlocked.Increment(ref _next);
        if (index < batches.Length || cycle)
        {
            return batches[index % batches.Length];
        }

        Interlocked.Increment(ref _builtLive);
        lock (_live)
        {
            return _live.Build();
        }
    }
}
