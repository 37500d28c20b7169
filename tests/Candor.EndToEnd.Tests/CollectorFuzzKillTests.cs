using System.Globalization;
using System.Text;
using Candor.TestSupport;
using Xunit.Abstractions;

namespace Candor.EndToEnd.Tests;

/// <summary>
/// Acked means stored, across many crashes: the collector is killed with SIGKILL again and again while
/// several clients post, and restarted on the same data directory or database. Some clients retry a
/// batch until it is acknowledged, across the restarts, as the SDK's spool does; others give a batch up
/// after one failure. In the end no acknowledged event is missing and no event is stored twice.
/// </summary>
[Collection(FuzzTestGroup.Name)]
public sealed class CollectorFuzzKillTests(ITestOutputHelper output)
{
    private const int Clients = 6;
    private const int EventsPerBatch = 10;

    /// <summary>No rate limit: every client posts from 127.0.0.1, and this test is about durability.</summary>
    private const string NoRateLimit = "--Candor:RateLimits:IngestRequestsPerSecond=0";

    [Theory]
    [InlineData("duckdb")]
    [InlineData("postgres")]
    public async Task AfterRepeatedKillsUnderLoadNoAcknowledgedEventIsLostAndNoneIsStoredTwice(string storage)
    {
        var seed = FuzzSettings.NewSeed();
        var cycles = FuzzSettings.Cycles;
        var random = new Random(seed);
        FuzzSettings.Report(output, $"kill {storage}: seed {seed} (replay: CANDOR_FUZZ_SEED={seed}), {cycles} kill cycles, {Clients} clients");

        await using var store = await StorageUnderTest.StartAsync(storage);
        using var data = new TemporaryDirectory("candor-kill");
        var tally = new FuzzTally();
        var senders = Enumerable.Range(0, Clients).Select(i => new Sender(i, retries: i % 2 == 0)).ToArray();
        var figures = new StringBuilder();
        var outputs = new StringBuilder();

        for (var cycle = 0; cycle < cycles; cycle++)
        {
            // Where to kill: after a seeded number of acknowledged events, so kills land at different
            // points of the group commit (and of DuckDB's checkpoints) from cycle to cycle.
            var killAfter = random.Next(300, 3000);
            // About every other start with a tiny DuckDB WAL (ignored by PostgreSQL), so some kills land during a checkpoint.
            var checkpointSize = random.Next(2) == 0 ? "128MB" : "256KB";
            await using var collector = await CollectorProcess.StartAsync(data.Path, store.Environment(), [NoRateLimit, $"--Candor:DuckDbCheckpointSize={checkpointSize}"]);
            var acknowledgedBefore = tally.Acknowledged.Count;
            var requestsBefore = tally.Requests;
            using var stop = new CancellationTokenSource();
            var posting = senders.Select(s => Task.Run(() => s.PostUntilStoppedAsync(collector.BaseAddress, tally, stop.Token))).ToArray();

            // Bounded: if the clients make no progress (every request failing), kill after a number of requests instead.
            while (tally.Acknowledged.Count - acknowledgedBefore < killAfter && tally.Requests - requestsBefore < 20_000 && !posting.All(p => p.IsCompleted))
            {
                await Task.Delay(10);
            }

            var memory = ResidentMemory.Read(collector.ProcessId);
            await collector.KillAsync();
            await stop.CancelAsync();
            await Task.WhenAll(posting);
            outputs.Append(collector.Output);
            figures.AppendLine(CultureInfo.InvariantCulture,
                $"  cycle {cycle + 1}: killed after {tally.Acknowledged.Count - acknowledgedBefore:N0} events acknowledged ({killAfter:N0} aimed for; checkpoint size {checkpointSize}), {memory?.ToString() ?? "memory unknown"}");
        }

        // The last start: the retrying clients deliver what they still hold, then a graceful stop.
        var pending = 0;
        await using (var collector = await CollectorProcess.StartAsync(data.Path, store.Environment(), [NoRateLimit]))
        {
            foreach (var sender in senders)
            {
                pending += await sender.DeliverPendingAsync(collector.BaseAddress, tally);
            }

            await collector.StopAsync();
            outputs.Append(collector.Output);
        }

        var stored = await store.ReadStoredEventIdsAsync(data.Path);
        var lost = tally.Acknowledged.Where(a => !stored.ContainsKey(a.Key)).ToList();
        var duplicated = stored.Where(s => s.Value > 1).ToList();
        var traces = FuzzTally.StackTraces(outputs.ToString());
        FuzzSettings.Report(output, new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"kill {storage}, seed {seed}: {tally.Requests:N0} requests, {tally.Acknowledged.Count:N0} events acknowledged, {stored.Count:N0} distinct stored, {pending} batches still pending at the end were delivered")
            .Append(figures)
            .Append(tally.Histogram())
            .AppendLine(CultureInfo.InvariantCulture, $"  collector logs: {traces.Count} kinds of stack trace")
            .ToString());

        var problems = new List<string>();
        if (lost.Count > 0)
        {
            problems.Add($"{lost.Count:N0} of {tally.Acknowledged.Count:N0} acknowledged events are missing, e.g. {string.Join(", ", lost.Take(5).Select(l => $"{l.Key} ({l.Value})"))}");
        }

        if (duplicated.Count > 0)
        {
            problems.Add($"{duplicated.Count:N0} event ids are stored more than once, e.g. {string.Join(", ", duplicated.Take(5).Select(d => $"{d.Key} ×{d.Value}"))}");
        }

        if (tally.OffenderCount > 0)
        {
            problems.Add($"{tally.OffenderCount} answers broke a rule:\n    " + string.Join("\n    ", tally.Offenders));
        }

        if (traces.Count > 0)
        {
            problems.Add("the collector's output has stack traces:\n    " + string.Join("\n    ", traces.Take(8)));
        }

        Assert.True(problems.Count == 0, $"seed {seed}:\n" + string.Join("\n", problems));
    }

    /// <summary>A client posting valid batches of fresh ids one after the other. A retrying client keeps
    /// a batch that was not acknowledged (an error status, or no answer) and sends it again, also to the
    /// next collector process; the others drop it.</summary>
    private sealed class Sender(int index, bool retries)
    {
        private (Guid[] Ids, string Json)? _pending;

        public async Task PostUntilStoppedAsync(Uri baseAddress, FuzzTally tally, CancellationToken stop)
        {
            using var http = FuzzTraffic.CreateClient(baseAddress);
            while (!stop.IsCancellationRequested)
            {
                var batch = _pending ?? NewBatch();
                var (status, body, failure) = await FuzzTraffic.PostBatchAsync(http, batch.Json);
                tally.Count(retries ? "retrying client" : "one-shot client", status, body, failure);
                if (status is >= 200 and < 300)
                {
                    tally.Acknowledge(Name, body);
                    _pending = null;
                    continue;
                }

                // 503 with Retry-After is an honest answer while the collector starts or stops, and no
                // answer is what a kill looks like; anything else is a broken promise.
                if (status is { } s and not 503)
                {
                    tally.Offend($"{Name}: a valid batch was answered {s} {FuzzTally.Snippet(body)}");
                }

                _pending = retries ? batch : null;
                if (status is null)
                {
                    // The collector is gone (killed) or not there yet: wait for the stop, not in a tight loop.
                    await Task.Delay(50, CancellationToken.None);
                }
            }
        }

        /// <summary>Sends the batch still held, until acknowledged (bounded); returns 1 if there was one.</summary>
        public async Task<int> DeliverPendingAsync(Uri baseAddress, FuzzTally tally)
        {
            if (_pending is not { } batch)
            {
                return 0;
            }

            using var http = FuzzTraffic.CreateClient(baseAddress);
            for (var attempt = 0; attempt < 20; attempt++)
            {
                var (status, body, failure) = await FuzzTraffic.PostBatchAsync(http, batch.Json);
                tally.Count(retries ? "retrying client" : "one-shot client", status, body, failure);
                if (status is >= 200 and < 300)
                {
                    tally.Acknowledge(Name, body);
                    _pending = null;
                    return 1;
                }

                await Task.Delay(200);
            }

            tally.Offend($"{Name}: a batch held across the kills was never acknowledged after the last restart");
            return 1;
        }

        private string Name => retries ? $"retrying client {index}" : $"client {index}";

        private static (Guid[] Ids, string Json) NewBatch()
        {
            Guid[] ids = [.. Enumerable.Range(0, EventsPerBatch).Select(_ => Guid.CreateVersion7())];
            return (ids, CollectorHttp.Batch(ids));
        }
    }
}
