using System.Net;
using System.Net.Sockets;

namespace Candor.Collector.Tests.Security;

/// <summary>HTTP clients that connect from a chosen loopback address (all of 127.0.0.0/8 is local on
/// Linux), so one test can be several clients as the collector sees them.</summary>
internal static class LoopbackClient
{
    public static HttpClient From(string localAddress, Uri baseAddress)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
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
        return new HttpClient(handler) { BaseAddress = baseAddress };
    }

    /// <summary>The value of a Prometheus sample line such as <c>candor_rate_limited_total{scope="admin"}</c>, or 0.</summary>
    public static async Task<double> MetricAsync(HttpClient client, string sample)
    {
        var text = await client.GetStringAsync("/metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(sample + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(sample.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
