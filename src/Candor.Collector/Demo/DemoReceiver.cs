using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Candor.Collector.Enrichment;
using Candor.Collector.Ingestion;
using Candor.Collector.Security;
using Candor.Protocol;

namespace Candor.Collector.Demo;

/// <summary>
/// Where the demo's SDK clients deliver: a private listener on a loopback port, open only while the
/// demo fills the store, that accepts only its own random write key. It is a door of the collector's
/// own <see cref="IngestPipeline"/>: each batch is read, decoded, validated, enriched, committed and
/// answered as on <c>POST /v1/events</c>, with the differences that make the backfill possible. The
/// batch is taken to have arrived at its <c>sent_at</c>, a moment of the simulated past that clients
/// and receiver share (skew correction, the future and age limits and the quarantine apply from that
/// moment, unchanged); its client is located where the simulated install lives; a full writer queue
/// is waited out; and none of it counts in the collector's metrics. The public ingest endpoint is not touched.
/// </summary>
internal sealed class DemoReceiver : IIngestDoor, IAsyncDisposable
{
    /// <summary>The simulated network delay between a batch leaving a client and arriving.</summary>
    private static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(40);

    private readonly HttpListener _listener = new();
    private readonly IngestPipeline _pipeline;
    private readonly ClientAddressEnricher _enricher;
    private readonly GeoLocator _geo;
    private readonly CollectorOptions _options;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Guid, DemoNetwork> _networks = new();
    private readonly ConcurrentDictionary<Guid, IPAddress> _addresses = new();
    private readonly Task _loop;
    private long _accepted;
    private long _rejected;

    public DemoReceiver(IngestPipeline pipeline, ClientAddressEnricher enricher, GeoLocator geo, CollectorOptions options, TimeProvider time)
    {
        _pipeline = pipeline;
        _enricher = enricher;
        _geo = geo;
        _options = options;
        _time = time;
        WriteKey = "wk_demo_" + Guid.NewGuid().ToString("N");
        var port = FreeLoopbackPort();
        Endpoint = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Endpoint.ToString());
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    public Uri Endpoint { get; }

    public string WriteKey { get; }

    /// <summary>Events stored, including duplicates of stored ones.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    public long Rejected => Interlocked.Read(ref _rejected);

    public bool WaitsWhenBusy => true;

    public IIngestCounters Counters => UncountedIngest.Instance;

    /// <summary>Says where an install's batches come from; the listener itself only ever sees loopback.</summary>
    public void Locate(Guid installId, DemoNetwork network, IPAddress address)
    {
        _networks[installId] = network;
        _addresses[installId] = address;
    }

    public bool IsKnownWriteKey(string writeKey) => string.Equals(writeKey, WriteKey, StringComparison.Ordinal);

    public WriteKeyCheck CheckWriteKey(string? writeKey, string product) =>
        string.IsNullOrEmpty(writeKey) ? WriteKeyCheck.Missing : IsKnownWriteKey(writeKey) ? WriteKeyCheck.Valid : WriteKeyCheck.Invalid;

    /// <summary>Never later than the real arrival: a batch claiming to be sent in the future is checked
    /// as arriving now, so the validator's future limit still applies to it.</summary>
    public DateTimeOffset ArrivalOf(EventBatch batch, DateTimeOffset now)
    {
        var arrival = batch.SentAt + Latency;
        return arrival > now ? now : arrival;
    }

    public ClientFacts Describe(EventBatch batch, IPAddress? client)
    {
        if (batch.Context.InstallId is not { } id || !_addresses.TryGetValue(id, out var address))
        {
            return default;
        }

        // The real enrichment (and pseudonymization, when enabled); the table only stands in for a
        // GeoIP database the operator has not configured.
        var facts = _enricher.Describe(address);
        return _geo.IsEnabled ? facts : facts with { Country = _networks[id].Country, Region = _networks[id].Region };
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (HttpListenerException)
        {
        }

        _listener.Close();
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    /// <summary>Answers with the pipeline's status and <c>Retry-After</c>; the SDK reads no more.</summary>
    private async Task HandleAsync(HttpListenerContext context)
    {
        IngestAnswer? answer = null;
        try
        {
            answer = await ReceiveAsync(context.Request);
            context.Response.StatusCode = answer.Status;
            if (answer.RetryAfterSeconds is { } seconds)
            {
                context.Response.AddHeader("Retry-After", seconds.ToString(CultureInfo.InvariantCulture));
            }

            Interlocked.Add(ref _accepted, answer.Stored);
            Interlocked.Add(ref _rejected, answer.Rejected);
        }
        catch (IOException)
        {
            // The body could not be read (the client went away).
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
        }
#pragma warning disable CA1031 // Whatever failed, the client gets a retryable answer, as from ingest.
        catch (Exception)
#pragma warning restore CA1031
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        }
        finally
        {
            context.Response.Close();
            answer?.Dispose();
        }
    }

    private async Task<IngestAnswer> ReceiveAsync(HttpListenerRequest request)
    {
        var call = new IngestCall(this, request.Headers[ProtocolConstants.WriteKeyHeader], Client: null);
        if (IngestPipeline.Authenticate(call) is { } refused)
        {
            return refused;
        }

        var body = await RequestBody.ReadAsync(
            request.InputStream, request.ContentLength64 >= 0 ? request.ContentLength64 : null, request.Headers["Content-Encoding"],
            IngestEndpoint.MaxCompressedBytes, IngestEndpoint.MaxDecompressedBytes, _options.MaxBodyReadTime, _time, _stopping.Token);
        return await _pipeline.IngestJsonAsync(call, body, _stopping.Token);
    }

    private static int FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
