using BenchmarkDotNet.Attributes;
using Candor.Catalog;
using Candor.Consent;
using Candor.Platform;
using Candor.Protocol;
using Microsoft.ApplicationInsights;
using Microsoft.ApplicationInsights.Channel;
using Microsoft.ApplicationInsights.Extensibility;

namespace Candor.Benchmarks;

/// <summary>
/// What the host pays to record one event with four properties: Candor's <c>Track</c> (span and
/// dictionary forms) against Application Insights' <c>TelemetryClient.TrackEvent</c> (baseline).
/// Neither side touches the network: Application Insights sends to a channel that discards, and
/// Candor runs without its delivery thread while each invocation empties its queue after 1000 events
/// (so the figures include the dequeue, and the queue never fills up into the cheaper drop path).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class TrackBenchmarks
{
    private const int Events = 1000;

    private CandorClient _candor = null!;
    private TelemetryClient _applicationInsights = null!;
    private TelemetryConfiguration _configuration = null!;

    [GlobalSetup]
    public void Setup()
    {
        var catalog = new EventCatalog().Add(new EventDefinition("command", "A command ran.")
            .String("command", "The command path.", required: true)
            .Integer("exit_code", "The exit code.")
            .Integer("duration_ms", "How long it took.", minimum: 0)
            .Boolean("ci", "Whether under CI."));
        var options = new CandorOptions { ProductName = "acme", ProductVersion = "1.4.0", Catalog = catalog, QueueCapacity = 10_000, TransparencyLogSize = 0 };
        _candor = new CandorClient(options, new ConsentDecision(TelemetryLevel.Anonymous, "benchmark", Guid.CreateVersion7()),
            SystemEnvironment.Instance, TimeProvider.System, startDelivery: false);

        _configuration = new TelemetryConfiguration { ConnectionString = "InstrumentationKey=00000000-0000-0000-0000-000000000000", TelemetryChannel = new DiscardingChannel() };
        _applicationInsights = new TelemetryClient(_configuration);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _candor.Dispose();
        _configuration.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public void ApplicationInsightsTrackEvent()
    {
        for (var i = 0; i < Events; i++)
        {
            _applicationInsights.TrackEvent("command", new Dictionary<string, string>
            {
                ["command"] = "run",
                ["exit_code"] = "0",
                ["duration_ms"] = "42",
                ["ci"] = "false",
            });
        }
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public int CandorTrack()
    {
        for (var i = 0; i < Events; i++)
        {
            _candor.Track("command",
                new EventProperty("command", "run"),
                new EventProperty("exit_code", 0),
                new EventProperty("duration_ms", 42),
                new EventProperty("ci", false));
        }

        return _candor.DiscardQueued();
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public int CandorTrackWithDictionary()
    {
        for (var i = 0; i < Events; i++)
        {
            _candor.Track("command", new Dictionary<string, PropertyValue>
            {
                ["command"] = "run",
                ["exit_code"] = 0,
                ["duration_ms"] = 42,
                ["ci"] = false,
            });
        }

        return _candor.DiscardQueued();
    }

    private sealed class DiscardingChannel : ITelemetryChannel
    {
        public bool? DeveloperMode { get; set; }

        public string EndpointAddress { get; set; } = "";

        public void Send(ITelemetry item)
        {
        }

        public void Flush()
        {
        }

        public void Dispose()
        {
        }
    }
}
