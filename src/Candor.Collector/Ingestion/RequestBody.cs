using System.Buffers;
using System.IO.Compression;
using Candor.Protocol;
using Microsoft.AspNetCore.Http.Features;

namespace Candor.Collector.Ingestion;

/// <summary>
/// Reads a request body, gunzipping it when needed, without ever holding more than the limits allow
/// (a decompression bomb stops at the decompressed limit). The bytes live in buffers rented from
/// <see cref="ArrayPool{T}.Shared"/>: dispose the body once it has been parsed. At 100k events/s a
/// body copied into fresh arrays was about a third of everything ingest allocated, and so of its
/// garbage collections.
/// </summary>
internal readonly struct RequestBody : IDisposable
{
    private readonly byte[]? _rented;
    private readonly int _length;

    private RequestBody(byte[]? rented, int length, IResult? error) => (_rented, _length, Error) = (rented, length, error);

    /// <summary>The body's bytes (decompressed); valid until <see cref="Dispose"/>.</summary>
    public ReadOnlyMemory<byte> Bytes => _rented is null ? ReadOnlyMemory<byte>.Empty : _rented.AsMemory(0, _length);

    /// <summary>The answer to send instead, when the body broke a limit or could not be decoded.</summary>
    public IResult? Error { get; }

    /// <summary>Gives the buffer back to the pool.</summary>
    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
        }
    }

    public static async Task<RequestBody> ReadAsync(HttpRequest request, int maxCompressed, int maxDecompressed, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxCompressed)
        {
            return Fail(StatusCodes.Status413PayloadTooLarge, ErrorCodes.BodyTooLarge, $"The body may be at most {maxCompressed} bytes.");
        }

        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            // We enforce our own limit below with a clear answer; Kestrel's would answer a bare 413.
            sizeFeature.MaxRequestBodySize = null;
        }

        var encoding = request.Headers.ContentEncoding.ToString();
        var gzip = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase);
        if (!gzip && encoding.Length > 0 && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return Fail(StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedEncoding, $"Content-Encoding '{encoding}' is not supported; use gzip or none.");
        }

        var compressed = await ReadLimitedAsync(request.Body, maxCompressed, (int)(request.ContentLength ?? 0), cancellationToken);
        if (compressed.Buffer is null)
        {
            return Fail(StatusCodes.Status413PayloadTooLarge, ErrorCodes.BodyTooLarge, $"The body may be at most {maxCompressed} bytes.");
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
            ArrayPool<byte>.Shared.Return(compressed.Buffer);
        }
    }

    private static RequestBody Fail(int status, string code, string message) =>
        new(null, 0, IngestEndpoint.Error(status, code, message));

    /// <summary>The stream's bytes in a rented buffer, or a null buffer when the stream holds more
    /// than <paramref name="limit"/> (nothing is then left rented).</summary>
    private static async Task<(byte[]? Buffer, int Length)> ReadLimitedAsync(Stream stream, int limit, int expected, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Clamp(expected + 1, 4096, limit + 1));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return (null, 0);
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(buffer.Length * 2L, limit + 1L));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
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
                    ArrayPool<byte>.Shared.Return(buffer);
                    return (null, 0);
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return (buffer, length);
    }
}
