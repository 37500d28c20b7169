using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Candor.Delivery;
using Candor.Protocol;

namespace Candor.Benchmarks;

/// <summary>What it costs the client to encode one batch of 100 events: plain JSON (baseline)
/// against the gzip JSON actually sent.</summary>
[MemoryDiagnoser]
public class BatchEncodingBenchmarks
{
    private EventBatch _batch = null!;

    [GlobalSetup]
    public void Setup()
    {
        var now = DateTimeOffset.UtcNow;
        _batch = new EventBatch
        {
            SentAt = now,
            Context = new EventContext { Product = "acme", ProductVersion = "1.4.0", OsFamily = "linux", SessionId = Guid.CreateVersion7() },
            Events = [.. Enumerable.Range(0, 100).Select(i => new TelemetryEvent
            {
                Id = Guid.CreateVersion7(),
                Name = "command",
                Time = now,
                Properties = new Dictionary<string, PropertyValue> { ["command"] = "run", ["exit_code"] = 0, ["duration_ms"] = i, ["ci"] = false },
            })],
        };
    }

    [Benchmark(Baseline = true)]
    public byte[] Json() => JsonSerializer.SerializeToUtf8Bytes(_batch, ProtocolJsonContext.Default.EventBatch);

    [Benchmark]
    public int GzipJson() => HttpSender.Compress(_batch).Bytes.Count;
}
