using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Candor.Collector.Enrichment;
using Candor.Collector.Ingestion;
using Candor.Collector.Storage;
using Candor.Protocol;

namespace Candor.Collector.Demo;

/// <summary>
/// Where the demo's SDK clients deliver: a private listener on a loopback port, open only while the
/// demo fills the store, that accepts only its own random write key. Each batch goes through the
/// collector's own validation, enrichment and group-commit writer, as on <c>POST /v1/events</c>, with
/// one difference that makes the backfill possible: the batch is taken to have arrived at its
/// <c>sent_at</c>, a moment of the simulated past that clients and receiver share. Skew correction,
/// the future and age limits and the quarantine apply from that moment, unchanged; the public
/// ingest endpoint is not touched.
/// </summary>
internal sealed class DemoReceiver : IAsyncDisposable
{
    /// <summary>The simulated network delay between a batch leaving a client and arriving.</summary>
    private static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(40);

    private readonly HttpListener _listener = new();
    private readonly EventValidator _validator;
    private readonly ClientAddressEnricher _enricher;
    private readonly GeoLocator _geo;
    private readonly GroupCommitWriter _writer;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<Guid, DemoNetwork> _networks = new();
    private readonly ConcurrentDictionary<Guid, IPAddress> _addresses = new();
    private readonly Task _loop;
    private long _accepted;
    private long _rejected;

    public DemoReceiver(EventValidator validator, ClientAddressEnricher enricher, GeoLocator geo, GroupCommitWriter writer, TimeProvider time)
    {
        _time = time;
        _validator = validator;
        _enricher = enricher;
        _geo = geo;
        _writer = writer;
        WriteKey = "wk_demo_" + Guid.NewGuid().ToString("N");
        var port = FreeLoopbackPort();
        Endpoint = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Endpoint.ToString());
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    public Uri Endpoint { get; }

    public string WriteKey { get; }

    public long Accepted => Interlocked.Read(ref _accepted);

    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Says where an install's batches come from; the listener itself only ever sees loopback.</summary>
    public void Locate(Guid installId, DemoNetwork network, IPAddress address)
    {
        _networks[installId] = network;
        _addresses[installId] = address;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (HttpListenerException)
        {
        }

        _listener.Close();
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

    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            context.Response.StatusCode = await StoreAsync(context.Request);
        }
        catch (Exception ex) when (ex is JsonException or IOException or InvalidDataException)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
        }
#pragma warning disable CA1031 // The writer logged what failed; the client gets a retryable answer, as from ingest.
        catch (Exception)
#pragma warning restore CA1031
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        }
        finally
        {
            context.Response.Close();
        }
    }

    private async Task<int> StoreAsync(HttpListenerRequest request)
    {
        if (request.Headers[ProtocolConstants.WriteKeyHeader] != WriteKey)
        {
            return StatusCodes.Status401Unauthorized;
        }

        using var body = new MemoryStream();
        if (string.Equals(request.Headers["Content-Encoding"], "gzip", StringComparison.OrdinalIgnoreCase))
        {
            await using var gzip = new GZipStream(request.InputStream, CompressionMode.Decompress);
            await gzip.CopyToAsync(body);
        }
        else
        {
            await request.InputStream.CopyToAsync(body);
        }

        var batch = JsonSerializer.Deserialize(body.ToArray(), ProtocolJsonContext.Default.EventBatch);
        if (batch?.Context is null || batch.Events is not { Count: > 0 })
        {
            return StatusCodes.Status400BadRequest;
        }

        // Never later than the real arrival: a batch claiming to be sent in the future is checked as
        // arriving now, so the validator's future limit still applies to it.
        var receivedAt = batch.SentAt + Latency;
        receivedAt = receivedAt > _time.GetUtcNow() ? _time.GetUtcNow() : receivedAt;
        var facts = FactsOf(batch.Context.InstallId);
        var events = new List<EventRecord>(batch.Events.Count);
        var quarantine = new List<QuarantineRecord>();
        foreach (var e in batch.Events)
        {
            var outcome = _validator.Check(batch, e, receivedAt, facts);
            if (outcome.Event is { } record)
            {
                events.Add(record);
            }
            else
            {
                quarantine.Add(outcome.Rejection!);
            }
        }

        var write = new WriteRequest(events, quarantine);
        while (!_writer.TryEnqueue(write))
        {
            await Task.Delay(50);
        }

        await write.Committed;
        Interlocked.Add(ref _accepted, events.Count);
        Interlocked.Add(ref _rejected, quarantine.Count);
        return events.Count > 0 ? StatusCodes.Status200OK : StatusCodes.Status422UnprocessableEntity;
    }

    private ClientFacts FactsOf(Guid? installId)
    {
        if (installId is not { } id || !_addresses.TryGetValue(id, out var address))
        {
            return default;
        }

        // The real enrichment (and pseudonymization, when enabled); the table only stands in for a
        // GeoIP database the operator has not configured.
        var facts = _enricher.Describe(address);
        return _geo.IsEnabled ? facts : facts with { Country = _networks[id].Country, Region = _networks[id].Region };
    }

    private static int FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
