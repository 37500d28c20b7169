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

/// <summary>Posts batches (gzip above 1 KiB) to the collector through <see cref="HttpClient"/>. Never throws.</summary>
internal sealed class HttpSender : IDisposable
{
    private HttpClient? _http;

    // Dispose looks at this, not at _http: a method that reads an HttpClient field makes the runtime
    // load System.Net.Http, which a process that never sent anything (e.g. --help) does not need at exit.
    private bool _httpCreated;
    private readonly Uri _endpoint;
    private readonly Uri _eventsUri;
    private readonly string? _writeKey;
    private readonly TimeSpan _connectTimeout;
    private readonly TimeProvider _time;
    private readonly Func<HttpMessageHandler>? _handlerFactory;
    private PreparedConnection? _prepared;
    private bool _preparedOnce;
    private int _attempts;

    /// <param name="endpoint">The collector's base address.</param>
    /// <param name="writeKey">The product's write key.</param>
    /// <param name="connectTimeout">The longest wait for a connection.</param>
    /// <param name="time">The clock a <c>Retry-After</c> date is read against.</param>
    /// <param name="handlerFactory">The handler to send through instead of the SDK's own (a service's
    /// <c>IHttpClientFactory</c>); no connection is prepared ahead then.</param>
    public HttpSender(Uri endpoint, string? writeKey, TimeSpan connectTimeout, TimeProvider time, Func<HttpMessageHandler>? handlerFactory = null)
    {
        _handlerFactory = handlerFactory;
        _endpoint = endpoint;
        _eventsUri = new Uri(endpoint, ProtocolConstants.EventsPath);
        _writeKey = writeKey;
        _connectTimeout = connectTimeout;
        _time = time;
    }

    // Built on first use (normally by Prepare, on the delivery thread): its construction loads
    // System.Net.Http, which the host's thread should not pay for at startup.
    private HttpClient Http
    {
        get
        {
            _httpCreated = true;
            return _http ??= CreateHttpClient();
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private HttpClient CreateHttpClient() => new(new SocketsHttpHandler
    {
        ConnectTimeout = _connectTimeout,
        UseProxy = true,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = ConnectAsync,
    })
    {
        // The caller bounds each request with its own cancellation token.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>How many requests were started, for tests and diagnostics.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>How many requests went out on a connection made by <see cref="Prepare"/>, for tests.</summary>
    internal int PreparedConnectionsUsed { get; private set; }

    /// <summary>
    /// Runs the request path once without the network (building the body and the request), so that at
    /// exit only the bytes on the wire remain to be paid for.
    /// </summary>
    public void WarmUp(EventBatch sample)
    {
        try
        {
            using var request = CreateRequest(Compress(sample));
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or NotSupportedException)
        {
            Diagnostics.CandorEventSource.Log.DeliveryFailed("warm-up: " + ex.GetType().Name);
        }
    }

    /// <summary>
    /// Builds the <see cref="HttpClient"/> and starts connecting to the collector while the host is still
    /// busy, so the request made at exit does not wait for a handshake. Never waits for the connection
    /// itself (only, for a host name, for name resolution, which <paramref name="stop"/> cuts short); does
    /// nothing for an https or proxied collector, or when a connection is prepared or was ever used. Called
    /// on the delivery thread only.
    /// </summary>
    public void Prepare(CancellationToken stop)
    {
        // Over https the exit request pays the TLS handshake anyway, and preparing here measured slower
        // in the Native AOT build (bench/results/2026-12-07-restructure-ab.md): the first request builds
        // the client and connects by itself.
        if (_eventsUri.Scheme == Uri.UriSchemeHttps)
        {
            return;
        }

        try
        {
            if (_handlerFactory is not null)
            {
                return;
            }

            _ = Http;
            if (_prepared is not null || _preparedOnce || UsesProxy())
            {
                return;
            }

            _prepared = PreparedConnection.Begin(_eventsUri, _connectTimeout, stop);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException
            or AggregateException or InvalidOperationException or NotSupportedException)
        {
            // The request at exit connects on its own (and reports the failure).
        }
    }

    // A proxied request connects to the proxy, not to the collector: a connection prepared to the
    // collector would go unused.
    private bool UsesProxy()
    {
        var proxy = HttpClient.DefaultProxy;
        return !proxy.IsBypassed(_eventsUri) && proxy.GetProxy(_eventsUri) is { } via && via != _eventsUri;
    }

    // Called by the handler for each new connection, on the thread of a synchronous Send: the prepared
    // connection serves the first one when it can, the rest connect as the handler would.
    private ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _prepared, null) is { } prepared)
        {
            _preparedOnce = true;
            if (prepared.TryTake(context.DnsEndPoint, cancellationToken) is { } stream)
            {
                PreparedConnectionsUsed++;
                return ValueTask.FromResult(stream);
            }
        }

        return PreparedConnection.Connect(context.DnsEndPoint, cancellationToken);
    }

    /// <summary>Sends synchronously on the calling thread. The delivery loop owns a dedicated thread and
    /// uses this, so its progress never depends on a thread pool the host may have starved.</summary>
    public SendResult Send(EventBatch batch, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _attempts);
        try
        {
            using var request = CreateRequest(Compress(batch));
            int status;
            TimeSpan? retryAfter;
            try
            {
                using var response = Client().Send(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                (status, retryAfter) = ((int)response.StatusCode, RetryAfterOf(response));
            }
            catch (HttpRequestException ex)
            {
                throw new IOException(ex.Message, ex);
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

    // A factory's handlers are rotated by the factory: one client per request, as IHttpClientFactory wants.
    private HttpClient Client() => _handlerFactory is null
        ? Http
        : new HttpClient(_handlerFactory(), disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };

    private HttpRequestMessage CreateRequest(EncodedBatch body)
    {
        var content = new ByteArrayContent(body.Bytes.Array!, body.Bytes.Offset, body.Bytes.Count);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (body.Gzip)
        {
            content.Headers.ContentEncoding.Add("gzip");
        }

        // Disposing the request disposes its content.
        return WithWriteKey(new HttpRequestMessage(HttpMethod.Post, _eventsUri) { Content = content });
    }

    private HttpRequestMessage WithWriteKey(HttpRequestMessage request)
    {
        if (_writeKey is not null)
        {
            request.Headers.TryAddWithoutValidation(ProtocolConstants.WriteKeyHeader, _writeKey);
        }

        return request;
    }

    /// <summary>
    /// Posts a small JSON body (a forget or access request, see <see cref="Rights.RightsRequest"/>) to
    /// <paramref name="path"/> with the write key, synchronously on the calling thread, and reads the
    /// answer. Never throws: a failure comes back as <see cref="Rights.RightsAnswer.Failure"/>. Not counted
    /// in <see cref="Attempts"/>, which counts batches.
    /// </summary>
    public Rights.RightsAnswer Post(string path, byte[] json, CancellationToken cancellationToken)
    {
        try
        {
            var content = new ByteArrayContent(json);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var request = WithWriteKey(new HttpRequestMessage(HttpMethod.Post, new Uri(_endpoint, path)) { Content = content });
            using var response = Client().Send(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            using var body = response.Content.ReadAsStream(cancellationToken);
            var bytes = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = body.Read(buffer)) > 0)
            {
                bytes.Write(buffer, 0, read);
                if (bytes.Length > Rights.RightsAnswer.MaxBodyBytes)
                {
                    return Rights.RightsAnswer.Failed($"the answer ({(int)response.StatusCode}) is larger than {Rights.RightsAnswer.MaxBodyBytes} bytes");
                }
            }

            var text = System.Text.Encoding.UTF8.GetString(bytes.GetBuffer(), 0, (int)bytes.Length);
            return new Rights.RightsAnswer((int)response.StatusCode, text, RetryAfterOf(response), null);
        }
        catch (OperationCanceledException)
        {
            return Rights.RightsAnswer.Failed("no answer in time");
        }
        catch (HttpRequestException ex)
        {
            return Rights.RightsAnswer.Failed(ex.Message);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or System.Net.Sockets.SocketException
            or NotSupportedException or ObjectDisposedException)
        {
            return Rights.RightsAnswer.Failed(ex.Message);
        }
    }

    private TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (retryAfter?.Date is { } date)
        {
            var wait = date - _time.GetUtcNow();
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
        Interlocked.Exchange(ref _prepared, null)?.Dispose();
        if (_httpCreated)
        {
            DisposeHttpClient();
        }
    }

    // Apart: a process that never built its HttpClient does not load System.Net.Http at exit to dispose nothing.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void DisposeHttpClient() => _http?.Dispose();
}
