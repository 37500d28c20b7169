namespace Candor.Collector.Ingestion;

/// <summary>
/// Bounds how many large bodies (over <see cref="MinBytes"/> decompressed) are parsed and validated at
/// once (<see cref="CollectorOptions.MaxLargeBodies"/>). A batch's objects take two to three times its
/// JSON; sixteen clients sending 8 MB bodies at once held over 900 MB. Real batches are a few
/// kilobytes and never wait here.
/// </summary>
internal sealed class LargeBodyGate(CollectorOptions options, TimeProvider time) : IDisposable
{
    public const int MinBytes = 256 * 1024;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _slots = new(options.MaxLargeBodies, options.MaxLargeBodies);

    /// <summary>A slot to release when the request is answered, <see cref="Slot.None"/> for a small
    /// body, or <see langword="null"/> when none came free in time (answer 503 then).</summary>
    public async Task<Slot?> EnterAsync(int bodyBytes, CancellationToken cancellationToken)
    {
        if (bodyBytes <= MinBytes)
        {
            return Slot.None;
        }

        using var timeout = new CancellationTokenSource(Wait, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await _slots.WaitAsync(linked.Token);
            return new Slot(_slots);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    public void Dispose() => _slots.Dispose();

    /// <summary>Held while a large body is worked on.</summary>
    internal sealed class Slot(SemaphoreSlim? slots) : IDisposable
    {
        public static readonly Slot None = new(null);

        private SemaphoreSlim? _slots = slots;

        public void Dispose() => Interlocked.Exchange(ref _slots, null)?.Release();
    }
}
