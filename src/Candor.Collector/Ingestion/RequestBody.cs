using System.Buffers;
using System.IO.Compression;
using Candor.Protocol;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Candor.Collector.Ingestion;

/// <summary>
/// Reads a request body, gunzipping it when needed, without ever holding more than the limits allow
/// (a decompression bomb stops at the decompressed limit) or taking longer than the deadline (a body
/// trickled in slowly holds a connection and its buffer). The bytes live in buffers rented from
/// <see cref="Pool"/>: dispose the body once it has been parsed. At 100k events/s a body copied into
/// fresh arrays was about a third of everything ingest allocated, and so of its garbage collections.
/// </summary>
internal readonly struct RequestBody : IDisposable
{
    /// <summary>
    /// Bodies' buffers. Not <see cref="ArrayPool{T}.Shared"/>: it keeps arrays of up to a gigabyte in
    /// a cache per thread and per core, so after a burst of 8 MB bodies every thread that read one held
    /// its own until a memory-pressure trim (hundreds of megabytes after abusive traffic, never given
    /// back while the collector was idle). This pool keeps at most 16 arrays per size up to 1 MB
    /// (about 32 MB in all); a larger body, which real clients do not send, gets an array of its own
    /// that the GC takes back.
    /// </summary>
    internal static readonly ArrayPool<byte> Pool = ArrayPool<byte>.Create(maxArrayLength: 1 << 20, maxArraysPerBucket: 16);

    private readonly byte[]? _rented;
    private readonly int _length;

    private RequestBody(byte[]? rented, int length, IngestAnswer? error) => (_rented, _length, Error) = (rented, length, error);

    /// <summary>The body's bytes (decompressed); valid until <see cref="Dispose"/>.</summary>
    public ReadOnlyMemory<byte> Bytes => _rented is null ? ReadOnlyMemory<byte>.Empty : _rented.AsMemory(0, _length);

    /// <summary>The refusal to answer instead, when the body broke a limit or could not be decoded.</summary>
    public IngestAnswer? Error { get; }

    /// <summary>Gives the buffer back to the pool.</summary>
    public void Dispose()
    {
        if (_rented is not null)
        {
            Pool.Return(_rented);
        }
    }

    /// <summary>Reads the body within <paramref name="deadline"/> (measured on <paramref name="time"/>'s
    /// monotonic clock) and at no less than <paramref name="minBytesPerSecond"/> after a grace period
    /// (Kestrel's own check), answering <c>body_timeout</c> (408) otherwise.</summary>
    public static async Task<RequestBody> ReadAsync(
        HttpRequest request, int maxCompressed, int maxDecompressed, TimeSpan deadline, int minBytesPerSecond, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (minBytesPerSecond > 0 && request.HttpContext.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = new MinDataRate(minBytesPerSecond, TimeSpan.FromSeconds(5));
        }

        if (request.ContentLength > maxCompressed)
        {
            return TooLarge(maxCompressed);
        }

        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            // We enforce our own limit below with a clear answer; Kestrel's would answer a bare 413.
            sizeFeature.MaxRequestBodySize = null;
        }

        try
        {
            return await ReadAsync(request.Body, request.ContentLength, request.Headers.ContentEncoding.ToString(), maxCompressed, maxDecompressed, deadline, time, cancellationToken);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status408RequestTimeout)
        {
            return Fail(StatusCodes.Status408RequestTimeout, ErrorCodes.BodyTimeout, $"The body arrived slower than {minBytesPerSecond} bytes per second.");
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex)
        {
            // Malformed framing (a chunk-size line that overflows, a body shorter than its
            // Content-Length): Kestrel's message names the problem, never the content. Kestrel throws
            // some of these as plain IOExceptions; Operations/UnreadableBodyStream.cs, around every
            // request body, turns those into this exception.
            return Fail(ex.StatusCode, ErrorCodes.MalformedBody, "The request body is malformed: " + ex.Message);
        }
    }

    /// <summary>Reads a body from any stream (the demo's receiver reads an <c>HttpListener</c>'s) with
    /// the same limits, decoding and deadline; a read failure of the stream is the caller's.</summary>
    public static async Task<RequestBody> ReadAsync(
        Stream body, long? contentLength, string? contentEncoding, int maxCompressed, int maxDecompressed, TimeSpan deadline, TimeProvider time,
        CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(deadline, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await ReadWithinAsync(body, contentLength, contentEncoding ?? "", maxCompressed, maxDecompressed, linked.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Fail(StatusCodes.Status408RequestTimeout, ErrorCodes.BodyTimeout, $"The body was not received within {deadline.TotalSeconds:0} seconds.");
        }
    }

    private static async Task<RequestBody> ReadWithinAsync(
        Stream body, long? contentLength, string encoding, int maxCompressed, int maxDecompressed, CancellationToken cancellationToken)
    {
        if (contentLength > maxCompressed)
        {
            return TooLarge(maxCompressed);
        }

        var gzip = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase);
        if (!gzip && encoding.Length > 0 && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return Fail(StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedEncoding, $"Content-Encoding '{encoding}' is not supported; use gzip or none.");
        }

        var compressed = await ReadLimitedAsync(body, maxCompressed, (int)(contentLength ?? 0), cancellationToken);
        if (compressed.Buffer is null)
        {
            return TooLarge(maxCompressed);
        }

        if (!gzip)
        {
            return new RequestBody(compressed.Buffer, compressed.Length, null);
        }

        try
        {
            using var input = new MemoryStream(compressed.Buffer, 0, compressed.Length, writable: false);
            using var decompressor = new GZipStream(input, CompressionMode.Decompress);
            // Telemetry JSON compresses about tenfold: start there rather than grow from nothing.
            var decompressed = await ReadLimitedAsync(decompressor, maxDecompressed, Math.Min(maxDecompressed, compressed.Length * 10), cancellationToken);
            return decompressed.Buffer is null
                ? Fail(StatusCodes.Status413PayloadTooLarge, ErrorCodes.DecompressedTooLarge, $"The decompressed body may be at most {maxDecompressed} bytes.")
                : new RequestBody(decompressed.Buffer, decompressed.Length, null);
        }
        catch (InvalidDataException)
        {
            return Fail(StatusCodes.Status400BadRequest, ErrorCodes.MalformedBody, "The body is not valid gzip.");
        }
        finally
        {
            Pool.Return(compressed.Buffer);
        }
    }

    private static RequestBody TooLarge(int maxCompressed) =>
        Fail(StatusCodes.Status413PayloadTooLarge, ErrorCodes.BodyTooLarge, $"The body may be at most {maxCompressed} bytes.");

    private static RequestBody Fail(int status, string code, string message) =>
        new(null, 0, IngestAnswer.Refusal(status, code, message));

    /// <summary>The stream's bytes in a rented buffer, or a null buffer when the stream holds more
    /// than <paramref name="limit"/> (nothing is then left rented).</summary>
    private static async Task<(byte[]? Buffer, int Length)> ReadLimitedAsync(Stream stream, int limit, int expected, CancellationToken cancellationToken)
    {
        var buffer = Pool.Rent(Math.Clamp(expected + 1, 4096, limit + 1));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        Pool.Return(buffer);
                        return (null, 0);
                    }

                    var larger = Pool.Rent((int)Math.Min(buffer.Length * 2L, limit + 1L));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    Pool.Return(buffer);
                    buffer = larger;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    Pool.Return(buffer);
                    return (null, 0);
                }
            }
        }
        catch
        {
            Pool.Return(buffer);
            throw;
        }

        return (buffer, length);
    }
}
