using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Candor.Delivery;

/// <summary>
/// One HTTP/1.1 POST over a plain socket, synchronously, for <c>http://</c> collectors without a proxy.
/// A cold process pays about a third of the CPU <see cref="HttpClient"/> costs on its first request
/// (measured: ≈ 35 ms against ≈ 115 ms), and a short-lived tool sends exactly one request at exit, so
/// that difference is most of what telemetry adds to its run. <c>https://</c> and proxied collectors go
/// through <see cref="HttpClient"/>.
/// </summary>
/// <remarks>
/// The delivery thread may start the connection early (<see cref="BeginConnect"/>) while the host runs its
/// command; the request at exit then finds the handshake done. Connect is non-blocking with a poll, so it honours the connect timeout without a timer; cancellation
/// closes the socket, which ends any blocked call at once. Only the status line and <c>Retry-After</c>
/// are read: the collector's body is not needed to decide what to do next.
/// </remarks>
internal static class RawHttpPost
{
    private const int MaxHeaderBytes = 16 * 1024;

    /// <summary>A prepared connection older than this is not trusted (servers and proxies close idle
    /// connections); the request connects afresh.</summary>
    private static readonly TimeSpan MaxPreparedAge = TimeSpan.FromSeconds(30);

    /// <summary>A connection started ahead of the request: the socket (possibly still connecting) and when it started.</summary>
    internal sealed class Connection(Socket socket, long startedAt) : IDisposable
    {
        public Socket Socket { get; } = socket;

        public long StartedAt { get; } = startedAt;

        public void Dispose() => Socket.Dispose();
    }

    /// <summary>Starts a non-blocking connection to the first address of <paramref name="uri"/>'s host and
    /// returns without waiting for the handshake. A host name is resolved first, waiting at most
    /// <paramref name="timeout"/>, cut short by <paramref name="cancellationToken"/>.</summary>
    public static Connection? BeginConnect(Uri uri, TimeSpan timeout, CancellationToken cancellationToken)
    {
        IPAddress address;
        if (IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal))
        {
            address = literal;
        }
        else
        {
            var lookup = Dns.GetHostAddressesAsync(uri.IdnHost, cancellationToken);
            if (!lookup.Wait(timeout, cancellationToken) || lookup.Result.Length == 0)
            {
                return null;
            }

            address = lookup.Result[0];
        }

        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, Blocking = false };
        var startedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            socket.Connect(new IPEndPoint(address, uri.Port));
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
        }
        catch (SocketException)
        {
            socket.Dispose();
            throw;
        }

        return new Connection(socket, startedAt);
    }

    /// <summary>Runs the request head's building and the answer's parsing once, without a socket.</summary>
    public static void WarmUp(Uri uri, string? writeKey)
    {
        _ = Head(uri, writeKey, 1, gzip: true);
        _ = ParseHead("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"u8);
    }

    /// <summary>The variables through which <see cref="HttpClient"/> picks up a proxy on Unix.</summary>
    private static readonly string[] ProxyVariables = ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];

    /// <summary>Whether the raw path can serve <paramref name="uri"/>: plain http, no proxy configured,
    /// and a write key that is a valid header value.</summary>
    public static bool CanServe(Uri uri, string? writeKey, Func<string, string?> getVariable) =>
        uri.Scheme == Uri.UriSchemeHttp &&
        !ProxyVariables.Any(v => !string.IsNullOrEmpty(getVariable(v))) &&
        (writeKey is null || IsPrintableAscii(writeKey));

    // A loop, not ContainsAnyExceptInRange: vectorized searches are compiled at startup even in ReadyToRun images.
    private static bool IsPrintableAscii(string value)
    {
        foreach (var c in value)
        {
            if (c is < ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Posts the body; the status and <c>Retry-After</c>, or an exception for a network failure.</summary>
    /// <remarks>A <c>prepared</c> connection from <see cref="BeginConnect"/> is used when it is connected and
    /// fresh, else the request connects afresh; it is owned (and disposed) by this call.</remarks>
    public static (int Status, TimeSpan? RetryAfter) Post(Uri uri, string? writeKey, ReadOnlySpan<byte> body, bool gzip,
        TimeSpan connectTimeout, Connection? prepared, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (prepared is not null)
        {
            using (prepared)
            using (cancellationToken.Register(static s => ((Socket)s!).Dispose(), prepared.Socket))
            {
                if (TryFinishConnect(prepared, connectTimeout))
                {
                    SendAll(prepared.Socket, Head(uri, writeKey, body.Length, gzip), cancellationToken);
                    SendAll(prepared.Socket, body, cancellationToken);
                    return ReadHead(prepared.Socket, cancellationToken);
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
        }

        var addresses = IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal) ? [literal] : Dns.GetHostAddresses(uri.IdnHost);
        SocketException? lastFailure = null;
        foreach (var address in addresses)
        {
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using var registration = cancellationToken.Register(static s => ((Socket)s!).Dispose(), socket);
            try
            {
                Connect(socket, new IPEndPoint(address, uri.Port), connectTimeout);
            }
            catch (SocketException ex)
            {
                lastFailure = ex;
                continue;
            }

            SendAll(socket, Head(uri, writeKey, body.Length, gzip), cancellationToken);
            SendAll(socket, body, cancellationToken);
            return ReadHead(socket, cancellationToken);
        }

        throw lastFailure ?? new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>Waits for a prepared connection's handshake (within what is left of the connect timeout) and
    /// checks it is still open; false when it cannot be used and the request should connect afresh.</summary>
    private static bool TryFinishConnect(Connection prepared, TimeSpan timeout)
    {
        var socket = prepared.Socket;
        var age = System.Diagnostics.Stopwatch.GetElapsedTime(prepared.StartedAt);
        if (age > MaxPreparedAge)
        {
            return false;
        }

        var left = timeout - age;
        var microseconds = (int)Math.Clamp(left.TotalMicroseconds, 0, int.MaxValue);
        if (!socket.Poll(microseconds, SelectMode.SelectWrite))
        {
            throw new SocketException((int)SocketError.TimedOut);
        }

        if ((int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)! != 0)
        {
            return false;
        }

        // Readable before we asked anything means the server closed (or reset) the idle connection.
        return !socket.Poll(0, SelectMode.SelectRead);
    }

    private static void Connect(Socket socket, IPEndPoint endpoint, TimeSpan timeout)
    {
        socket.Blocking = false;
        try
        {
            socket.Connect(endpoint);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            var microseconds = (int)Math.Min(timeout.TotalMicroseconds, int.MaxValue);
            if (!socket.Poll(microseconds, SelectMode.SelectWrite))
            {
                throw new SocketException((int)SocketError.TimedOut);
            }

            var error = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
            if (error != 0)
            {
                throw new SocketException(error);
            }
        }
    }

    private static byte[] Head(Uri uri, string? writeKey, int length, bool gzip)
    {
        var head = new StringBuilder(256)
            .Append("POST ").Append(uri.PathAndQuery).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(uri.Authority).Append("\r\n")
            .Append("Content-Type: application/json\r\n")
            .Append("Content-Length: ").Append(length.ToString(CultureInfo.InvariantCulture)).Append("\r\n")
            .Append("Connection: close\r\n");
        if (gzip)
        {
            head.Append("Content-Encoding: gzip\r\n");
        }

        if (writeKey is not null)
        {
            head.Append(Protocol.ProtocolConstants.WriteKeyHeader).Append(": ").Append(writeKey).Append("\r\n");
        }

        return Encoding.ASCII.GetBytes(head.Append("\r\n").ToString());
    }

    /// <summary>How long one wait on the socket lasts before the cancellation token is looked at again.</summary>
    private const int PollSliceMicroseconds = 10_000;

    /// <summary>
    /// The socket stays non-blocking from connect to close, and every wait is a <see cref="Socket.Poll(int, SelectMode)"/>
    /// in short slices that watch <paramref name="cancellationToken"/> (the flush budget). A socket switched
    /// back to blocking mode would not become blocking again: .NET emulates blocking calls on it by
    /// registering it with its socket engine and waiting on thread-pool work, which costs a short-lived
    /// tool several milliseconds to set up (about 14 ms of a JIT-compiled acme run's exit, measured with
    /// strace). Poll is a plain poll(2).
    /// </summary>
    private static void WaitUntil(Socket socket, SelectMode mode, CancellationToken cancellationToken)
    {
        while (!socket.Poll(PollSliceMicroseconds, mode))
        {
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private static void SendAll(Socket socket, ReadOnlySpan<byte> data, CancellationToken cancellationToken)
    {
        while (data.Length > 0)
        {
            var sent = socket.Send(data, SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                WaitUntil(socket, SelectMode.SelectWrite, cancellationToken);
                continue;
            }

            if (error != SocketError.Success)
            {
                throw new SocketException((int)error);
            }

            data = data[sent..];
        }
    }

    /// <summary>Reads the answer's head (see <see cref="WaitUntil"/> for how it waits).</summary>
    private static (int Status, TimeSpan? RetryAfter) ReadHead(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxHeaderBytes];
        var length = 0;
        int end;
        while ((end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (length == buffer.Length)
            {
                throw new IOException("The collector's answer has no end of headers.");
            }

            WaitUntil(socket, SelectMode.SelectRead, cancellationToken);
            var read = socket.Receive(buffer.AsSpan(length), SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                continue;
            }

            if (error != SocketError.Success)
            {
                throw new SocketException((int)error);
            }

            if (read == 0)
            {
                throw new IOException("The collector closed the connection before answering.");
            }

            length += read;
        }

        return ParseHead(buffer.AsSpan(0, end));
    }

    /// <summary>The status and <c>Retry-After</c> of an answer's head (without its closing blank line).</summary>
    private static (int Status, TimeSpan? RetryAfter) ParseHead(ReadOnlySpan<byte> head)
    {
        var lines = Encoding.Latin1.GetString(head).Split("\r\n");
        var status = lines[0].Split(' ');
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal) ||
            !int.TryParse(status[1], NumberStyles.None, CultureInfo.InvariantCulture, out var code) || code is < 100 or > 599)
        {
            throw new IOException("The collector's answer is not HTTP.");
        }

        TimeSpan? retryAfter = null;
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals("Retry-After", StringComparison.OrdinalIgnoreCase))
            {
                var value = line[(colon + 1)..].Trim();
                if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                {
                    retryAfter = TimeSpan.FromSeconds(seconds);
                }
                else if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
                {
                    var wait = date - DateTimeOffset.UtcNow;
                    retryAfter = wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
                }
            }
        }

        return (code, retryAfter);
    }
}
