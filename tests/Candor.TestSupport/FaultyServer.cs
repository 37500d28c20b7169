using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Candor.TestSupport;

/// <summary>How a <see cref="FaultyServer"/> misbehaves.</summary>
internal enum Fault
{
    /// <summary>Nothing listens on the port: connections are refused.</summary>
    ConnectionRefused,
    /// <summary>The port accepts connections (the kernel completes the handshake) and never answers.</summary>
    AcceptAndNeverAnswer,
    /// <summary>Answers 500.</summary>
    ServerError,
    /// <summary>Answers 429 with <c>Retry-After: 30</c>.</summary>
    TooManyRequests,
    /// <summary>Answers bytes that are not HTTP, then closes.</summary>
    Garbage,
    /// <summary>Answers 200, but only after 30 s.</summary>
    VerySlow,
}

/// <summary>
/// A raw TCP server on loopback that plays one fault, for proving that a misbehaving collector changes
/// nothing for the host. Counts the connections it accepted.
/// </summary>
internal sealed class FaultyServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Fault _fault;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting = Task.CompletedTask;
    private int _connections;

    public FaultyServer(Fault fault)
    {
        _fault = fault;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        var port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        if (fault == Fault.ConnectionRefused)
        {
            _listener.Stop();
        }
        else if (fault != Fault.AcceptAndNeverAnswer)
        {
            _accepting = Task.Run(AcceptAsync);
        }
    }

    public Uri BaseAddress { get; }

    public int Connections => Volatile.Read(ref _connections);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                await ReadHeadersAsync(stream);
                var answer = _fault switch
                {
                    Fault.ServerError => "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    Fault.TooManyRequests => "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    Fault.Garbage => "\u0001\u0002 this is not HTTP at all \u00ff\r\n\r\n{{{",
                    _ => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                };
                if (_fault == Fault.VerySlow)
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), _stop.Token);
                }

                await stream.WriteAsync(Encoding.Latin1.GetBytes(answer), _stop.Token);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task ReadHeadersAsync(NetworkStream stream)
    {
        var buffer = new byte[8192];
        var seen = new StringBuilder();
        while (!seen.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, _stop.Token);
            if (read == 0)
            {
                return;
            }

            seen.Append(Encoding.Latin1.GetString(buffer, 0, read));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
