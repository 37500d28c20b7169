using Candor.Protocol;
using Candor.Transparency;

namespace Candor.Delivery;

/// <summary>
/// Turns the queue into batches for the delivery thread: bounded by <see cref="CandorOptions.BatchSize"/>
/// events and <see cref="CandorOptions.MaxBatchBytes"/> (estimated), stamped with the context and the time
/// they were taken. Keeps the count of events waiting, which <c>Track</c> raises and the linger reads.
/// </summary>
internal sealed class BatchAssembler(EventQueue reader, CandorOptions options, Lazy<EventContext> context,
    TransparencyLog? transparencyLog, TimeProvider time)
{
    private int _pending;

    /// <summary>Events accepted but not yet taken into a batch.</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Counts one more accepted event; the new count.</summary>
    public int Added() => Interlocked.Increment(ref _pending);

    /// <summary>Empties the queue without delivering (benchmarks only; see <c>CandorClient.DiscardQueued</c>).</summary>
    public int Discard()
    {
        var count = 0;
        while (reader.TryRead(out _))
        {
            count++;
        }

        Interlocked.Add(ref _pending, -count);
        return count;
    }

    /// <summary>The next batch from the queue, bounded by count and bytes; null when the queue is empty.
    /// With <paramref name="log"/>, its events go to the transparency log as it is taken.</summary>
    public EventBatch? Take(bool log)
    {
        List<TelemetryEvent>? events = null;
        var bytes = 0;
        while (events is not { Count: var count } || (count < options.BatchSize && bytes < options.MaxBatchBytes))
        {
            if (!reader.TryRead(out var queued))
            {
                break;
            }

            Interlocked.Decrement(ref _pending);
            bytes += queued.EstimatedBytes;
            (events ??= []).Add(queued.ToTelemetryEvent());
        }

        if (events is null)
        {
            return null;
        }

        if (log)
        {
            transparencyLog?.Append(events);
        }

        return new EventBatch { SentAt = time.GetUtcNow(), Context = context.Value, Events = events };
    }

    /// <summary>Every batch left in the queue, unlogged (the exit flush logs them last).</summary>
    public List<EventBatch> TakeAll()
    {
        var batches = new List<EventBatch>();
        while (Take(log: false) is { } batch)
        {
            batches.Add(batch);
        }

        return batches;
    }
}
