using Candor.Delivery;
using Candor.Protocol;
using Candor.Tests.Fakes;
using Candor.TestSupport;

namespace Candor.Tests.Delivery;

/// <summary>Both ways of posting — the raw socket used for plain http, and HttpClient used for https and
/// proxies — give the collector the same request and read the same answer.</summary>
public sealed class HttpSenderTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task EitherPathDeliversTheBatchWithTheWriteKeyAndGzipAboveOneKibibyte(bool raw)
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var sender = new HttpSender(collector.BaseAddress, "wk_test", TimeSpan.FromSeconds(2), _ => null, allowRaw: raw);

        var small = sender.Send(Batch(1), CancellationToken.None);
        var large = sender.Send(Batch(20), CancellationToken.None);

        Assert.Equal(new SendResult(SendOutcome.Delivered, Status: 200), small);
        Assert.Equal(SendOutcome.Delivered, large.Outcome);
        Assert.Equal(["", "gzip"], collector.Requests.Select(r => r.ContentEncoding));
        Assert.All(collector.Requests, r => Assert.Equal("wk_test", r.WriteKey));
        Assert.Equal(21, collector.Events.Count());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task EitherPathReadsTheStatusAndRetryAfter(bool raw)
    {
        await using var collector = await LoopbackCollector.StartAsync();
        collector.Respond = _ => new StatusResult(429, retryAfterSeconds: 7);
        using var sender = new HttpSender(collector.BaseAddress, "wk_test", TimeSpan.FromSeconds(2), _ => null, allowRaw: raw);

        var result = sender.Send(Batch(1), CancellationToken.None);

        Assert.Equal(new SendResult(SendOutcome.Retry, TimeSpan.FromSeconds(7), 429), result);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task APreparedConnectionCarriesTheFirstRequestAndLaterOnesConnectAfresh(bool raw)
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var sender = new HttpSender(collector.BaseAddress, "wk_test", TimeSpan.FromSeconds(2), _ => null, allowRaw: raw);

        sender.WarmUp(Batch(1));
        sender.Prepare(CancellationToken.None);
        var first = sender.Send(Batch(1), CancellationToken.None);
        var second = sender.Send(Batch(2), CancellationToken.None);

        Assert.Equal(SendOutcome.Delivered, first.Outcome);
        Assert.Equal(SendOutcome.Delivered, second.Outcome);
        Assert.Equal(3, collector.Events.Count());
    }

    [Fact]
    public async Task APreparedConnectionToAServerThatIsGoneEndsInARetryNotAThrow()
    {
        Uri address;
        await using (var gone = await LoopbackCollector.StartAsync())
        {
            address = gone.BaseAddress;
        }

        using var sender = new HttpSender(address, "wk_test", TimeSpan.FromSeconds(2), _ => null);
        sender.Prepare(CancellationToken.None);

        Assert.Equal(SendOutcome.Retry, sender.Send(Batch(1), CancellationToken.None).Outcome);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task EitherPathTurnsARefusedConnectionIntoARetryNotAThrow(bool raw)
    {
        await using var down = new FaultyServer(Fault.ConnectionRefused);
        using var sender = new HttpSender(down.BaseAddress, "wk_test", TimeSpan.FromSeconds(2), _ => null, allowRaw: raw);

        var result = sender.Send(Batch(1), CancellationToken.None);

        Assert.Equal(SendOutcome.Retry, result.Outcome);
        Assert.Equal(1, sender.Attempts);
    }

    [Fact]
    public async Task TheRawPathSendsABodyLargerThanTheSocketBufferToASlowReader()
    {
        // The socket stays non-blocking: a body the kernel cannot take at once is sent in parts, waiting
        // for the reader between them, and the answer is read once it arrives.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var body = new byte[8 * 1024 * 1024];
        Random.Shared.NextBytes(body);
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var buffer = new byte[64 * 1024];
            long received = 0;
            while (received < body.Length)
            {
                var read = await stream.ReadAsync(buffer);
                if (read == 0)
                {
                    break;
                }

                received += read;
                await Task.Delay(1);
            }

            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
            return received;
        });

        var (status, _) = RawHttpPost.Post(new Uri($"http://127.0.0.1:{port}/v1/events"), "wk_test", body, gzip: false,
            TimeSpan.FromSeconds(2), prepared: null, CancellationToken.None);

        Assert.Equal(200, status);
        Assert.True(await server >= body.Length, "the server read the whole request");
    }

    [Fact]
    public void AProxyOrHttpsSendsThroughHttpClient()
    {
        Assert.False(RawHttpPost.CanServe(new Uri("https://telemetry.example.com/v1/events"), "wk", _ => null));
        Assert.False(RawHttpPost.CanServe(new Uri("http://telemetry.example.com/v1/events"), "wk", v => v == "HTTP_PROXY" ? "http://proxy:3128" : null));
        Assert.False(RawHttpPost.CanServe(new Uri("http://telemetry.example.com/v1/events"), "wk\r\nX-Injected: 1", _ => null));
        Assert.True(RawHttpPost.CanServe(new Uri("http://telemetry.example.com/v1/events"), "wk", _ => null));
    }

    private static EventBatch Batch(int events) => new()
    {
        SentAt = DateTimeOffset.UtcNow,
        Context = new EventContext { Product = "acme", SessionId = Guid.CreateVersion7() },
        Events = [.. Enumerable.Range(0, events).Select(i => new TelemetryEvent
        {
            Id = Guid.CreateVersion7(), Name = "tick", Version = "1-0-0", Time = DateTimeOffset.UtcNow,
            Properties = new Dictionary<string, PropertyValue> { ["i"] = i },
        })],
    };
}
