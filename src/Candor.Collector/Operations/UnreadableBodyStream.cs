namespace Candor.Collector.Operations;

/// <summary>
/// The request body as Kestrel gives it, except that a read failing with a plain
/// <see cref="IOException"/> fails with a <see cref="BadHttpRequestException"/> (400) instead. Kestrel
/// throws <see cref="BadHttpRequestException"/> for most malformed framing, but a chunk size that
/// overflows surfaces as "Bad chunk size data" in a plain <see cref="IOException"/>, which would
/// otherwise be answered as the collector's own failure (500) rather than the client's.
/// </summary>
internal sealed class UnreadableBodyStream(Stream inner) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        try
        {
            return inner.Read(buffer, offset, count);
        }
        catch (IOException ex) when (ex is not BadHttpRequestException)
        {
            throw Unreadable(ex);
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await inner.ReadAsync(buffer, cancellationToken);
        }
        catch (IOException ex) when (ex is not BadHttpRequestException)
        {
            throw Unreadable(ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private static BadHttpRequestException Unreadable(IOException ex) => new(ex.Message, StatusCodes.Status400BadRequest, ex);
}
