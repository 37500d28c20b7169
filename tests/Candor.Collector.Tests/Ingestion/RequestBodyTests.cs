using System.Text;
using Candor.Collector.Ingestion;
using Candor.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Candor.Collector.Tests.Ingestion;

/// <summary><see cref="RequestBody"/> on its own, over an in-memory request: the limits, gzip, the
/// encodings it refuses and its deadline.</summary>
public sealed class RequestBodyTests
{
    private const int MaxCompressed = 8 * 1024;
    private const int MaxDecompressed = 32 * 1024;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task APlainBodyWithinTheLimitIsReadWhole()
    {
        var json = Encoding.UTF8.GetBytes("""{"events":[]}""");

        using var body = await ReadAsync(Request(json));

        Assert.Null(body.Error);
        Assert.Equal(json, body.Bytes.ToArray());
    }

    [Fact]
    public async Task AGzipBodyIsReadDecompressed()
    {
        var json = Encoding.UTF8.GetBytes(new string('a', 20_000));

        using var body = await ReadAsync(Request(TestCollector.Gzip(json), "gzip"));

        Assert.Null(body.Error);
        Assert.Equal(json, body.Bytes.ToArray());
    }

    [Fact]
    public async Task ABodyOverTheLimitIs413WhetherItsLengthIsDeclaredOrNot()
    {
        var bytes = new byte[MaxCompressed + 1];

        using var declared = await ReadAsync(Request(bytes));
        using var undeclared = await ReadAsync(Request(bytes, contentLength: null));

        AssertRefused(declared, 413, ErrorCodes.BodyTooLarge);
        AssertRefused(undeclared, 413, ErrorCodes.BodyTooLarge);
        Assert.True(declared.Bytes.IsEmpty);
    }

    [Fact]
    public async Task ADeclaredLengthOverTheLimitIsRefusedWithoutReadingTheBody()
    {
        var stream = new CountingStream(new byte[10]);

        using var body = await ReadAsync(Request(stream, contentLength: MaxCompressed + 1));

        AssertRefused(body, 413, ErrorCodes.BodyTooLarge);
        Assert.Equal(0, stream.Reads);
    }

    [Fact]
    public async Task AGzipBodyThatInflatesBeyondTheDecompressedLimitIs413WithItsOwnCode()
    {
        var bomb = TestCollector.Gzip(new byte[MaxDecompressed + 1]);
        Assert.True(bomb.Length <= MaxCompressed);

        using var body = await ReadAsync(Request(bomb, "gzip"));

        AssertRefused(body, 413, ErrorCodes.DecompressedTooLarge);
    }

    [Fact]
    public async Task ABodyThatIsNotGzipDespiteItsHeaderIsMalformed()
    {
        using var body = await ReadAsync(Request("not gzip"u8.ToArray(), "gzip"));

        AssertRefused(body, 400, ErrorCodes.MalformedBody);
    }

    [Theory]
    [InlineData("br")]
    [InlineData("deflate")]
    [InlineData("gzip, gzip")]
    public async Task AnEncodingOtherThanGzipOrIdentityIs415(string encoding)
    {
        using var body = await ReadAsync(Request("{}"u8.ToArray(), encoding));

        AssertRefused(body, 415, ErrorCodes.UnsupportedEncoding);
    }

    [Fact]
    public async Task IdentityIsAPlainBody()
    {
        using var body = await ReadAsync(Request("{}"u8.ToArray(), "identity"));

        Assert.Null(body.Error);
        Assert.Equal("{}"u8.ToArray(), body.Bytes.ToArray());
    }

    [Fact]
    public async Task ABodyStillArrivingAtTheDeadlineIs408()
    {
        var time = new FakeTimeProvider();
        var reading = ReadAsync(Request(new NeverEndingStream(), contentLength: 100), time);
        Assert.False(reading.IsCompleted);

        time.Advance(Deadline);
        using var body = await reading.WaitAsync(TimeSpan.FromSeconds(10));

        AssertRefused(body, 408, ErrorCodes.BodyTimeout);
    }

    [Fact]
    public async Task TheClientGoingAwayIsNotATimeout()
    {
        using var aborted = new CancellationTokenSource();
        var reading = RequestBody.ReadAsync(Request(new NeverEndingStream(), contentLength: 100), MaxCompressed, MaxDecompressed, Deadline, 0,
            new FakeTimeProvider(), aborted.Token);

        await aborted.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
    }

    [Fact]
    public async Task ABodySlowerThanKestrelsMinimumRateIs408AndMalformedFramingIsItsOwnStatus()
    {
        using var slow = await ReadAsync(Request(new ThrowingStream(new BadHttpRequestException("Reading the request body timed out due to data arriving too slowly.", 408)), contentLength: 100));
        using var framing = await ReadAsync(Request(new ThrowingStream(new BadHttpRequestException("Bad chunk size data.", 400)), contentLength: 100));

        AssertRefused(slow, 408, ErrorCodes.BodyTimeout);
        AssertRefused(framing, 400, ErrorCodes.MalformedBody);
    }

    [Fact]
    public async Task ABodyReadFromAnyStreamHasTheSameLimits()
    {
        using var plain = await RequestBody.ReadAsync(new MemoryStream("{}"u8.ToArray()), null, null, MaxCompressed, MaxDecompressed, Deadline, TimeProvider.System, default);
        using var tooLarge = await RequestBody.ReadAsync(new MemoryStream(new byte[MaxCompressed + 1]), null, "", MaxCompressed, MaxDecompressed, Deadline, TimeProvider.System, default);

        Assert.Equal("{}"u8.ToArray(), plain.Bytes.ToArray());
        AssertRefused(tooLarge, 413, ErrorCodes.BodyTooLarge);
    }

    private static Task<RequestBody> ReadAsync(HttpRequest request, TimeProvider? time = null) =>
        RequestBody.ReadAsync(request, MaxCompressed, MaxDecompressed, Deadline, minBytesPerSecond: 100, time ?? TimeProvider.System, CancellationToken.None);

    private static HttpRequest Request(byte[] body, string? encoding = null) => Request(new MemoryStream(body), encoding, body.Length);

    private static HttpRequest Request(byte[] body, long? contentLength) => Request(new MemoryStream(body), null, contentLength);

    private static HttpRequest Request(Stream body, string? encoding = null, long? contentLength = null)
    {
        var request = new DefaultHttpContext().Request;
        request.Method = "POST";
        request.Body = body;
        request.ContentLength = contentLength;
        if (encoding is not null)
        {
            request.Headers.ContentEncoding = encoding;
        }

        return request;
    }

    private static void AssertRefused(RequestBody body, int status, string code)
    {
        var error = Assert.IsType<IngestAnswer>(body.Error);
        Assert.Equal((status, code), (error.Status, error.Code));
    }

    /// <summary>A body whose bytes never come, until the read is cancelled.</summary>
    private sealed class NeverEndingStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => 0; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A body whose read fails as Kestrel's does.</summary>
    private sealed class ThrowingStream(Exception exception) : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromException<int>(exception);
    }

    /// <summary>A body that counts how often it is read.</summary>
    private sealed class CountingStream(byte[] bytes) : MemoryStream(bytes)
    {
        public int Reads { get; private set; }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Reads++;
            return base.ReadAsync(buffer, cancellationToken);
        }
    }
}
