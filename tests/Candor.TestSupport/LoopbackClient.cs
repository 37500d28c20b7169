using System.Net;
using System.Net.Sockets;

namespace Candor.TestSupport;

/// <summary>
/// HTTP clients that connect to a loopback server from a chosen loopback source address. Linux routes
/// all of 127.0.0.0/8 to the loopback interface, so 127.0.0.2 is a second, distinct client address
/// on the same machine: a collector that partitions limits by client address sees two clients.
/// </summary>
internal static class LoopbackClient
{
    /// <summary>A second loopback address, distinct from the usual 127.0.0.1.</summary>
    public static readonly IPAddress SecondAddress = IPAddress.Parse("127.0.0.2");

    public static HttpClient Create(Uri baseAddress, IPAddress source, TimeSpan timeout)
    {
        var handler = new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    // Bound before connecting, so the connection's source is this address.
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = timeout };
    }
}
