using System.Buffers;
using System.IO.Compression;
using Candor.Protocol;
using Microsoft.AspNetCore.Http.Features;

namespace Candor.Collector.Ingestion;

/// <summary>Reads a request body, gunzipping it when needed, without ever holding more than the
/// limits allow (a decompression bomb stops at the decompressed limit).</summary>
internal readonly record struct RequestBody(ReadOnlyMemory<byte> Bytes, IResult? Error)
{
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

        var compressed = await ReadLimitedAsync(request.Body, maxCompressed, cancellationToken);
        if (compressed is null)
        {
            return Fail(StatusCodes.Status413PayloadTooLarge, ErrorCodes.BodyTooLarge, $"The body may be at most {maxCompressed} bytes.");
        }

        if (!gzip)
        {
            return new RequestBody(compressed, null);
        }

        try
        {
            using var input = new MemoryStream(compressed);
            using var decompressor = new GZipStream(input, CompressionMode.Decompress);
            var decompressed = await ReadLimitedAsync(decompressor, maxDecompressed, cancellationToken);
            return decompressed is null
                ? Fail(StatusCodes.Status413PayloadTooLarge, ErrorCodes.DecompressedTooLarge, $"The decompressed body may be at most {maxDecompressed} bytes.")
                : new RequestBody(decompressed, null);
        }
        catch (InvalidDataException)
        {
            return Fail(StatusCodes.Status400BadRequest, ErrorCodes.MalformedBody, "The body is not valid gzip.");
        }
    }

    private static RequestBody Fail(int status, string code, string message) =>
        new(ReadOnlyMemory<byte>.Empty, IngestEndpoint.Error(status, code, message));

    /// <summary>The stream's bytes, or <see langword="null"/> when it holds more than <paramref name="limit"/>.</summary>
    private static async Task<byte[]?> ReadLimitedAsync(Stream stream, int limit, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            using var output = new MemoryStream();
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                if (output.Length + read > limit)
                {
                    return null;
                }

                output.Write(buffer, 0, read);
            }

            return output.ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
