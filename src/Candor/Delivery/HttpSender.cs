using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using Candor.Protocol;

namespace Candor.Delivery;

/// <summary>The outcome of one delivery attempt.</summary>
internal enum SendOutcome
{
    /// <summary>The collector stored (or already had) the events.</summary>
    Delivered,
    /// <summary>A transient failure: try again later (network error, timeout, 429, 5xx).</summary>
    Retry,
    /// <summary>The collector refused the batch for good (4xx other than 429): do not resend.</summary>
    Refused,
}

/// <summary>The outcome of one attempt and, for a retryable one, how long the collector asked us to wait.</summary>
internal readonly record struct SendResult(SendOutcome Outcome, TimeSpan? RetryAfter = null, int Status = 0);

/// <summary>Posts batches (gzip above 1 KiB) to the collector. Never throws.</summary>
internal sealed class HttpSender : IDisposable
{
    private HttpClient? _http;

    // Dispose looks at this, not at _http: a method that reads an HttpClient field makes the runtime
    // load System.Net.Http, which a plain-http sender otherwise never does.
    private bool _httpCreated;
    private readonly Uri _eventsUri;
    private readonly string? _writeKey;
    private readonly TimeSpan _connectTimeout;
    private readonly bool _raw;
    private RawHttpPost.Connection? _prepared;
    private int _attempts;

    /// <param name="endpoint">The collector's base address.</param>
    /// <param name="writeKey">The product's write key.</param>
    /// <param name="connectTimeout">The longest wait for a connection.</param>
    /// <param name="getVariable">Reads the environment, to see whether a proxy is configured.</param>
    /// <param name="allowRaw">Whether plain-http collectors may be reached without <see cref="HttpClient"/> (see <see cref="RawHttpPost"/>).</param>
    public HttpSender(Uri endpoint, string? writeKey, TimeSpan connectTimeout, Func<string, string?> getVariable, bool allowRaw = true)
    {
        _eventsUri = new Uri(endpoint, ProtocolConstants.EventsPath);
        _writeKey = writeKey;
        _connectTimeout = connectTimeout;
        _raw = allowRaw && RawHttpPost.CanServe(_eventsUri, writeKey, getVariable);
    }

    // Built on first use, apart: its construction and first request are the costliest part of a cold
    // send, and a field initialised in the constructor would load System.Net.Http on the host's thread at
    // startup even when every request goes through RawHttpPost.
    private HttpClient Http
    {
        get
        {
            _httpCreated = true;
            return _http ??= CreateHttpClient(_connectTimeout);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static HttpClient CreateHttpClient(TimeSpan connectTimeout) => new(new SocketsHttpHandler
    {
        ConnectTimeout = connectTimeout,
        UseProxy = true,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    })
    {
        // The caller bounds each request with its own cancellation token.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>How many requests were started, for tests and diagnostics.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>
    /// Runs the request path once without the network (building the body and the request head, reading
    /// a canned answer), so that at exit only the bytes on the wire remain to be paid for.
    /// </summary>
    public void WarmUp(EventBatch sample)
    {
        try
        {
            _ = Compress(sample);
            if (_raw)
            {
                RawHttpPost.WarmUp(_eventsUri, _writeKey);
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or NotSupportedException)
        {
            Diagnostics.CandorEventSource.Log.DeliveryFailed("warm-up: " + ex.GetType().Name);
        }
    }

    /// <summary>
    /// Starts connecting to the collector while the host is still busy, so the request made at exit does
    /// not wait for a handshake. Never waits for the connection itself (only, for a host name, for name
    /// resolution, which <paramref name="stop"/> cuts short); does nothing for <c>https</c> and proxied
    /// collectors, or when a connection is already prepared. Called on the delivery thread only.
    /// </summary>
    public void Prepare(CancellationToken stop)
    {
        if (!_raw || _prepared is not null)
        {
            return;
        }

        try
        {
            _prepared = RawHttpPost.BeginConnect(_eventsUri, _connectTimeout, stop);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException or AggregateException)
        {
            // The request at exit connects on its own (and reports the failure).
        }
    }

    /// <summary>Sends synchronously on the calling thread. The delivery loop owns a dedicated thread and
    /// uses this, so its progress never depends on a thread pool the host may have starved.</summary>
    public SendResult Send(EventBatch batch, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _attempts);
        try
        {
            var body = Compress(batch);
            int status;
            TimeSpan? retryAfter;
            if (_raw)
            {
                var prepared = _prepared;
                _prepared = null;
                (status, retryAfter) = RawHttpPost.Post(_eventsUri, _writeKey, body.Bytes, body.Gzip, _connectTimeout, prepared, cancellationToken);
            }
            else
            {
                (status, retryAfter) = SendWithHttpClient(body, cancellationToken);
            }

            Diagnostics.CandorEventSource.Log.Delivered(batch.Events.Count, status);
            return status switch
            {
                >= 200 and < 300 => new SendResult(SendOutcome.Delivered, Status: status),
                429 or 408 or >= 500 => new SendResult(SendOutcome.Retry, retryAfter, status),
                _ => new SendResult(SendOutcome.Refused, Status: status),
            };
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException
            or System.Net.Sockets.SocketException or NotSupportedException or ObjectDisposedException)
        {
            Diagnostics.CandorEventSource.Log.DeliveryFailed(ex.GetType().Name);
            return new SendResult(SendOutcome.Retry);
        }
    }

    // Apart, like CreateHttpClient: a plain-http collector reached through RawHttpPost never compiles
    // or loads System.Net.Http's request, content and header types.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private (int Status, TimeSpan? RetryAfter) SendWithHttpClient(EncodedBatch body, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body.Bytes.Array!, body.Bytes.Offset, body.Bytes.Count);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (body.Gzip)
        {
            content.Headers.ContentEncoding.Add("gzip");
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, _eventsUri) { Content = content };
        if (_writeKey is not null)
        {
            request.Headers.TryAddWithoutValidation(ProtocolConstants.WriteKeyHeader, _writeKey);
        }

        try
        {
            using var response = Http.Send(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            return ((int)response.StatusCode, RetryAfterOf(response));
        }
        catch (HttpRequestException ex)
        {
            // Send's handler names no System.Net.Http type (see above): it sees a plain I/O failure.
            throw new IOException(ex.Message, ex);
        }
    }

    private static TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (retryAfter?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    /// <summary>Bodies smaller than this go uncompressed: gzip saves little on them, and in a cold
    /// process its set-up costs more than the bytes it saves.</summary>
    internal const int GzipThreshold = 1024;

    /// <summary>A batch as it goes on the wire: the JSON, gzip-compressed when <see cref="Gzip"/>.</summary>
    internal readonly record struct EncodedBatch(ArraySegment<byte> Bytes, bool Gzip);

    internal static EncodedBatch Compress(EventBatch batch)
    {
        var json = new MemoryStream();
        WireJson.WriteBatch(json, batch);
        if (json.Length < GzipThreshold)
        {
            return new EncodedBatch(new ArraySegment<byte>(json.GetBuffer(), 0, (int)json.Length), Gzip: false);
        }

        return Gzip(json);
    }

    // Apart, so that a process sending only small batches never loads System.IO.Compression.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static EncodedBatch Gzip(MemoryStream json)
    {
        var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(json.GetBuffer(), 0, (int)json.Length);
        }

        return new EncodedBatch(new ArraySegment<byte>(buffer.GetBuffer(), 0, (int)buffer.Length), Gzip: true);
    }

    public void Dispose()
    {
        _prepared?.Dispose();
        if (_httpCreated)
        {
            DisposeHttpClient();
        }
    }

    // Apart: a process that never used HttpClient does not load System.Net.Http at exit to dispose nothing.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void DisposeHttpClient() => _http?.Dispose();
}
