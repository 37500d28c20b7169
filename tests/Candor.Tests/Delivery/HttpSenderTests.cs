using Candor.Delivery;
using Candor.Protocol;
using Candor.Tests.Fakes;
using Candor.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Candor.Tests.Delivery;

/// <summary>The sender's requests (through HttpClient, on a connection prepared ahead or its own) and how
/// it reads the collector's answers.</summary>
public sealed class HttpSenderTests
{
    [Fact]
    public async Task TheSenderDeliversTheBatchWithTheWriteKeyAndGzipAboveOneKibibyte()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var sender = new HttpSender(collector.BaseAddress, "wk_test", TimeSpan.FromSeconds(2), TimeProvider.System);

        var small = sender.Send(Batch(1), CancellationToken.None);
        var large = sender.Send(Batch(20), CancellationToken.None);

        Assert.Equal(new SendResult(SendOutcome.Delivered, Status: 200), small);
        Assert.Equal(SendOutcome.Delivered, large.Outcome);
        Assert.Equal(["", "gzip"], collector.Requests.Select(r => r.ContentEncoding));
        Assert.All(collector.Requests, r => Assert.Equal("wk_test", r.WriteKey));
        Assert.Equal(21, collector.Events.Count());
    }

    [Fact]
    public async Task TheSenderReadsTheStatusAndRetryAfter()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        collector.Respond = _ => new StatusResult(429, retryAfterSeconds: 7);
        using var sender = new HttpSender(collector.BaseAddress, "wk_test", TimeSpan.FromSeconds(2), TimeProvider.System);

        var result = sender.Send(Batch(1), CancellationToken.None);

        Assert.Equal(new SendResult(SendOutcome.Retry, TimeSpan.FromSeconds(7), 429), result);
    }

    [Fact]
    public async Task APreparedConnectionCarriesTheFirstRequestAndLaterOnesStillArrive()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var sender = new HttpSender(collector.BaseAddress, "wk_test", TimeSpan.FromSeconds(2), TimeProvider.System);

        sender.WarmUp(Batch(1));
        sender.Prepare(CancellationToken.None);
        var first = sender.Send(Batch(1), CancellationToken.None);
        var second = sender.Send(Batch(2), CancellationToken.None);
        var large = sender.Send(Batch(5000), CancellationToken.None);

        Assert.Equal(1, sender.PreparedConnectionsUsed);
        Assert.Equal(SendOutcome.Delivered, first.Outcome);
        Assert.Equal(SendOutcome.Delivered, second.Outcome);
        Assert.Equal(SendOutcome.Delivered, large.Outcome);
        Assert.Equal(5003, collector.Events.Count());
    }

    [Fact]
    public async Task APreparedConnectionTheServerClosedIsNotUsedAndTheRequestConnectsAfresh()
    {
        // A server that closes every connection it accepts at once: the prepared one is closed before
        // the request, so the request connects on its own (and fails here, as a retry, never a throw).
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        using var closing = new CancellationTokenSource();
        var accepted = 0;
        var server = Task.Run(async () =>
        {
            while (!closing.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(closing.Token);
                Interlocked.Increment(ref accepted);
            }
        });
        using var sender = new HttpSender(new Uri($"http://127.0.0.1:{port}/"), "wk_test", TimeSpan.FromSeconds(2), TimeProvider.System);

        sender.Prepare(CancellationToken.None);
        await TestClients.Eventually(() => Volatile.Read(ref accepted) == 1, "the prepared connection was accepted and closed");
        await Task.Delay(50);
        var result = sender.Send(Batch(1), CancellationToken.None);

        Assert.Equal(SendOutcome.Retry, result.Outcome);
        Assert.Equal(0, sender.PreparedConnectionsUsed);
        Assert.True(Volatile.Read(ref accepted) >= 2, "the request made its own connection");
        await closing.CancelAsync();
        try
        {
            await server;
        }
        catch (OperationCanceledException)
        {
            // The accept loop ends either way once cancelled.
        }
    }

    [Fact]
    public async Task ARetryAfterDateIsReadAgainstTheClientsClock()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero));
        await using var collector = await LoopbackCollector.StartAsync();
        collector.Respond = _ => new RetryAfterDate(time.GetUtcNow().AddSeconds(30));
        using var sender = new HttpSender(collector.BaseAddress, "wk_test", TimeSpan.FromSeconds(2), time);

        var result = sender.Send(Batch(1), CancellationToken.None);

        Assert.Equal(new SendResult(SendOutcome.Retry, TimeSpan.FromSeconds(30), 503), result);
    }

    [Fact]
    public async Task APreparedConnectionToAServerThatIsGoneEndsInARetryNotAThrow()
    {
        Uri address;
        await using (var gone = await LoopbackCollector.StartAsync())
        {
            address = gone.BaseAddress;
        }

        using var sender = new HttpSender(address, "wk_test", TimeSpan.FromSeconds(2), TimeProvider.System);
        sender.Prepare(CancellationToken.None);

        Assert.Equal(SendOutcome.Retry, sender.Send(Batch(1), CancellationToken.None).Outcome);
    }

    [Fact]
    public async Task ARefusedConnectionIsARetryNotAThrow()
    {
        await using var down = new FaultyServer(Fault.ConnectionRefused);
        using var sender = new HttpSender(down.BaseAddress, "wk_test", TimeSpan.FromSeconds(2), TimeProvider.System);

        var result = sender.Send(Batch(1), CancellationToken.None);

        Assert.Equal(SendOutcome.Retry, result.Outcome);
        Assert.Equal(1, sender.Attempts);
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

/// <summary>Answers 503 with a <c>Retry-After</c> date.</summary>
internal sealed class RetryAfterDate(DateTimeOffset date) : Microsoft.AspNetCore.Http.IResult
{
    public Task ExecuteAsync(Microsoft.AspNetCore.Http.HttpContext httpContext)
    {
        httpContext.Response.StatusCode = 503;
        httpContext.Response.Headers.RetryAfter = date.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    }
}
