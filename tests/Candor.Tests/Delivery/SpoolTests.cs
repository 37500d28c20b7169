using Candor.Delivery;
using Candor.Protocol;
using Candor.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Candor.Tests.Delivery;

public sealed class SpoolTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero));

    [Fact]
    public void ASpooledBatchIsReadBackWhole()
    {
        using var directory = new TemporaryDirectory();
        var spool = new Spool(directory.Path, maxBytes: 1024 * 1024, maxFiles: 10, TimeSpan.FromDays(7), _time);
        var batch = Batch(3);

        spool.Write(batch, TelemetryLevel.Anonymous);

        var read = Assert.Single(spool.ReadAll(TelemetryLevel.Anonymous));
        Assert.Equal(batch.Events.Select(e => e.Id), read.Batch.Events.Select(e => e.Id));
        Assert.Equal(_time.GetUtcNow(), read.WrittenAt);
        Assert.Empty(Directory.GetFiles(directory.Path, "*.tmp"));
    }

    [Fact]
    public void BeyondTheCountCapTheOldestBatchesAreDropped()
    {
        using var directory = new TemporaryDirectory();
        var spool = new Spool(directory.Path, maxBytes: 1024 * 1024, maxFiles: 3, TimeSpan.FromDays(7), _time);

        var batches = Enumerable.Range(0, 5).Select(_ => Batch(1)).ToList();
        foreach (var batch in batches)
        {
            spool.Write(batch, TelemetryLevel.Anonymous);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(batches.Skip(2).Select(b => b.Events[0].Id), spool.ReadAll(TelemetryLevel.Anonymous).Select(s => s.Batch.Events[0].Id));
    }

    [Fact]
    public void BeyondTheByteCapTheOldestBatchesAreDropped()
    {
        using var directory = new TemporaryDirectory();
        var spool = new Spool(directory.Path, maxBytes: 1024 * 1024, maxFiles: 100, TimeSpan.FromDays(7), _time);
        spool.Write(Batch(10), TelemetryLevel.Anonymous);
        var size = new FileInfo(Directory.GetFiles(directory.Path).Single()).Length;
        Directory.Delete(directory.Path, recursive: true);

        var capped = new Spool(directory.Path, maxBytes: size * 2 + size / 2, maxFiles: 100, TimeSpan.FromDays(7), _time);
        var batches = Enumerable.Range(0, 4).Select(_ => Batch(10)).ToList();
        foreach (var batch in batches)
        {
            capped.Write(batch, TelemetryLevel.Anonymous);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(batches.Skip(2).Select(b => b.Events[0].Id), capped.ReadAll(TelemetryLevel.Anonymous).Select(s => s.Batch.Events[0].Id));
    }

    [Fact]
    public void EntriesOlderThanTheAgeLimitAreDiscarded()
    {
        using var directory = new TemporaryDirectory();
        var spool = new Spool(directory.Path, maxBytes: 1024 * 1024, maxFiles: 100, TimeSpan.FromDays(7), _time);
        spool.Write(Batch(1), TelemetryLevel.Anonymous);
        _time.Advance(TimeSpan.FromDays(2));
        var recent = Batch(1);
        spool.Write(recent, TelemetryLevel.Anonymous);

        _time.Advance(TimeSpan.FromDays(5) + TimeSpan.FromMinutes(1));

        Assert.Equal([recent.Events[0].Id], spool.ReadAll(TelemetryLevel.Anonymous).Select(s => s.Batch.Events[0].Id));
        Assert.Single(Directory.GetFiles(directory.Path));
    }

    [Fact]
    public void AnUnreadableEntryIsDeletedAndTheOthersStillRead()
    {
        using var directory = new TemporaryDirectory();
        var spool = new Spool(directory.Path, maxBytes: 1024 * 1024, maxFiles: 100, TimeSpan.FromDays(7), _time);
        spool.Write(Batch(1), TelemetryLevel.Anonymous);
        File.WriteAllText(Path.Combine(directory.Path, $"{_time.GetUtcNow().ToUnixTimeMilliseconds():D15}-anonymous-{Guid.NewGuid():N}.batch.json"), "{ not json");

        Assert.Single(spool.ReadAll(TelemetryLevel.Anonymous));
        Assert.Single(Directory.GetFiles(directory.Path));
    }

    private EventBatch Batch(int events) => new()
    {
        SentAt = _time.GetUtcNow(),
        Context = new EventContext { Product = "acme", SessionId = Guid.CreateVersion7() },
        Events = [.. Enumerable.Range(0, events).Select(i => new TelemetryEvent
        {
            Id = Guid.CreateVersion7(),
            Name = "tick",
            Version = "1-0-0",
            Time = _time.GetUtcNow(),
            Properties = new Dictionary<string, PropertyValue> { ["i"] = i },
        })],
    };
}
