using System.Collections.Concurrent;
using System.Net;
using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>Invariant 5, acked means stored: crashes, restarts, retries and two instances.</summary>
public sealed class CollectorDurabilityTests
{
    /// <param name="checkpointSize">The default; and a WAL size so small that the collector checkpoints
    /// every few groups, so the kill also finds events acknowledged during a checkpoint (every event
    /// is acknowledged from the ingest journal, and the restart applies what it holds).</param>
    [Theory]
    [InlineData("128MB")]
    [InlineData("64KB")]
    public async Task EveryEventAcknowledgedBeforeTheCollectorIsKilledIsStoredAfterItRestarts(string checkpointSize)
    {
        using var data = new TemporaryDirectory();
        var acknowledged = new ConcurrentBag<Guid>();
        string[] arguments = [$"--Candor:DuckDbCheckpointSize={checkpointSize}"];
        await using (var collector = await CollectorProcess.StartAsync(data.Path, arguments: arguments))
        {
            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
            {
                using var client = new HttpClient { BaseAddress = collector.BaseAddress };
                for (var batch = 0; batch < 150 && !stop.IsCancellationRequested; batch++)
                {
                    Guid[] ids = [.. Enumerable.Range(0, 10).Select(_ => Guid.CreateVersion7())];
                    try
                    {
                        using var response = await CollectorHttp.PostAsync(client, CollectorHttp.Batch(ids));
                        if (response.IsSuccessStatusCode)
                        {
                            foreach (var id in ids)
                            {
                                acknowledged.Add(id);
                            }
                        }
                    }
                    catch (HttpRequestException)
                    {
                        return; // the collector is gone
                    }
                }
            })).ToArray();

            // Kill mid-stream: once a good share is acknowledged, while requests are in flight.
            while (acknowledged.Count < 1500 && !clients.All(c => c.IsCompleted))
            {
                await Task.Delay(20);
            }

            await collector.KillAsync();
            stop.Cancel();
            await Task.WhenAll(clients);
        }

        Assert.NotEmpty(acknowledged);
        await using var restarted = await CollectorProcess.StartAsync(data.Path, arguments: arguments);
        var stored = (await restarted.ReadEventsAsync(limit: 10_000)).Select(e => e.GetProperty("id").GetGuid()).ToHashSet();
        var lost = acknowledged.Where(id => !stored.Contains(id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {acknowledged.Count} acknowledged events are missing after the restart");
    }

    [Fact]
    public async Task TheSameBatchPostedAgainAfterARestartIsStoredOnce()
    {
        using var data = new TemporaryDirectory();
        var batch = CollectorHttp.Batch([Guid.CreateVersion7(), Guid.CreateVersion7()]);
        await using (var first = await CollectorProcess.StartAsync(data.Path))
        {
            using var client = new HttpClient { BaseAddress = first.BaseAddress };
            using var response = await CollectorHttp.PostAsync(client, batch);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await using var second = await CollectorProcess.StartAsync(data.Path);
        using var secondClient = new HttpClient { BaseAddress = second.BaseAddress };
        using var retry = await CollectorHttp.PostAsync(secondClient, batch);

        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Contains("\"duplicates\":2", await retry.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(2, (await second.ReadEventsAsync()).Length);
    }

    [Fact]
    public async Task TwoCollectorsOnOnePostgresBothAcceptAndNothingIsLostOrStoredTwice()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var connectionString = await postgres.CreateDatabaseAsync();
        using var dataA = new TemporaryDirectory();
        using var dataB = new TemporaryDirectory();
        var settings = new Dictionary<string, string?> { ["Candor__Storage"] = "postgres", ["Candor__ConnectionString"] = connectionString };
        await using var a = await CollectorProcess.StartAsync(dataA.Path, settings);
        await using var b = await CollectorProcess.StartAsync(dataB.Path, settings);
        using var clientA = new HttpClient { BaseAddress = a.BaseAddress };
        using var clientB = new HttpClient { BaseAddress = b.BaseAddress };
        var sent = new ConcurrentBag<Guid>();
        var acceptedBy = new ConcurrentDictionary<string, int>();

        // Each batch goes to both instances at once, as a client retrying through a load balancer would.
        await Parallel.ForAsync(0, 60, new ParallelOptions { MaxDegreeOfParallelism = 6 }, async (_, cancellationToken) =>
        {
            Guid[] ids = [.. Enumerable.Range(0, 20).Select(_ => Guid.CreateVersion7())];
            foreach (var id in ids)
            {
                sent.Add(id);
            }

            var batch = CollectorHttp.Batch(ids);
            var answers = await Task.WhenAll(
                CollectorHttp.PostAsync(clientA, batch, cancellationToken: cancellationToken),
                CollectorHttp.PostAsync(clientB, batch, cancellationToken: cancellationToken));
            foreach (var (answer, name) in answers.Zip(["a", "b"]))
            {
                Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
                var body = await answer.Content.ReadAsStringAsync(cancellationToken);
                acceptedBy.AddOrUpdate(name, Accepted(body), (_, n) => n + Accepted(body));
                answer.Dispose();
            }
        });

        var database = PostgresServer.DatabaseOf(connectionString);
        var counts = await postgres.QueryAsync(database, "SELECT count(*) || ' ' || count(DISTINCT event_id) FROM events WHERE product = 'acme'");
        Assert.Equal($"{sent.Count} {sent.Count}", counts);
        // Both instances did real work, and together they accepted each event exactly once.
        Assert.True(acceptedBy["a"] > 0 && acceptedBy["b"] > 0, $"accepted: a={acceptedBy["a"]}, b={acceptedBy["b"]}");
        Assert.Equal(sent.Count, acceptedBy["a"] + acceptedBy["b"]);
    }

    private static int Accepted(string body)
    {
        using var document = System.Text.Json.JsonDocument.Parse(body);
        return document.RootElement.GetProperty("accepted").GetInt32();
    }
}
