using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Candor.Delivery;

/// <summary>
/// A TCP connection to the collector started ahead of the first request, while the host runs its
/// command, so the request at exit does not wait for a handshake. <see cref="HttpSender"/>'s
/// <see cref="SocketsHttpHandler.ConnectCallback"/> hands it to <see cref="HttpClient"/> (which does
/// the HTTP, and TLS for <c>https</c>, on top); any other connection is made by <see cref="Connect"/>.
/// </summary>
/// <remarks>
/// The connect is non-blocking and never waited for when it starts; the handler's connect timeout
/// bounds the wait for it later, by a poll on the calling thread, so neither needs a timer or a pool
/// thread. A connection that is too old, failed, or already closed by the server is not used.
/// </remarks>
internal sealed class PreparedConnection : IDisposable
{
    /// <summary>A prepared connection older than this is not trusted (servers and proxies close idle
    /// connections); the request connects afresh.</summary>
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    private readonly Socket _socket;
    private readonly string _host;
    private readonly int _port;
    private readonly long _startedAt;

    private PreparedConnection(Socket socket, string host, int port)
    {
        _socket = socket;
        _host = host;
        _port = port;
        _startedAt = Stopwatch.GetTimestamp();
    }

    /// <summary>Starts a non-blocking connection to the first address of <paramref name="uri"/>'s host and
    /// returns without waiting for the handshake. A host name is resolved first, waiting at most
    /// <paramref name="timeout"/>, cut short by <paramref name="cancellationToken"/>.</summary>
    public static PreparedConnection? Begin(Uri uri, TimeSpan timeout, CancellationToken cancellationToken)
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

        return new PreparedConnection(socket, uri.IdnHost, uri.Port);
    }

    /// <summary>
    /// The prepared connection as a stream when it is for <paramref name="endpoint"/> (a proxied request
    /// connects to the proxy instead), fresh, connected within <paramref name="cancellationToken"/> (the
    /// handler's connect timeout), and still open; null when the request should connect afresh. Either
    /// way the connection is no longer this object's: call once.
    /// </summary>
    public Stream? TryTake(DnsEndPoint endpoint, CancellationToken cancellationToken)
    {
        if (!string.Equals(endpoint.Host, _host, StringComparison.OrdinalIgnoreCase) || endpoint.Port != _port ||
            Stopwatch.GetElapsedTime(_startedAt) > MaxAge)
        {
            _socket.Dispose();
            return null;
        }

        try
        {
            using (cancellationToken.Register(static s => ((Socket)s!).Dispose(), _socket))
            {
                // Polled in short slices, so the handler's connect timeout (a cancellation) is seen.
                while (!_socket.Poll(10_000, SelectMode.SelectWrite))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                // Connected without error, and not readable before we asked anything (readable would
                // mean the server closed or reset the idle connection).
                if ((int)_socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)! == 0 &&
                    !_socket.Poll(0, SelectMode.SelectRead))
                {
                    // NetworkStream takes only a blocking socket.
                    _socket.Blocking = true;
                    return new NetworkStream(_socket, ownsSocket: true);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }

        _socket.Dispose();
        return null;
    }

    /// <summary>
    /// A new connection to <paramref name="endpoint"/>, as <see cref="SocketsHttpHandler"/> makes it by default.
    /// Synchronous on the calling thread when called from a synchronous <c>Send</c> (the delivery thread):
    /// a blocking connect that cancellation (the connect timeout, the flush deadline) ends by closing the socket.
    /// </summary>
    public static ValueTask<Stream> Connect(DnsEndPoint endpoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using (cancellationToken.Register(static s => ((Socket)s!).Dispose(), socket))
            {
                socket.Connect(endpoint);
            }

            return ValueTask.FromResult<Stream>(new NetworkStream(socket, ownsSocket: true));
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            socket.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
            throw;
        }
    }

    public void Dispose() => _socket.Dispose();
}
