using Candor.Protocol;

namespace Candor.Delivery;

/// <summary>
/// What the delivery thread prepares while the host runs its command, before the first send: what
/// <c>Track</c> needs (the host's own warm-up, e.g. the redactor), the <see cref="HttpClient"/> and a
/// connection to the collector, the exit path's code; then it sends what earlier runs spooled. A
/// short-lived tool's exit then pays only for the bytes on the wire. A deletion the user asked for and
/// the collector has not confirmed (<paramref name="pendingForgets"/>) goes before anything else is sent.
/// </summary>
internal sealed class ColdStart(Action? hostWarmUp, BatchSender? sender, Lazy<EventContext> context, CancellationToken stop,
    Action? pendingForgets = null)
{
    public void Run()
    {
        hostWarmUp?.Invoke();
        sender?.Http.Prepare(stop);
        WarmUpExitPath();
        if (!stop.IsCancellationRequested && sender is not null)
        {
            pendingForgets?.Invoke();
            sender.DrainSpool();

            // Draining may have used the prepared connection (then the pool keeps it open, and this does nothing).
            sender.Http.Prepare(stop);
        }
    }

    /// <summary>
    /// Runs the exit path's serializers and compressor once while the host is still busy with its own
    /// work. Cold, they cost tens of milliseconds of JIT and loading — enough to push a short-lived
    /// tool's final flush past its budget. Touches neither the disk nor the network.
    /// </summary>
    private void WarmUpExitPath()
    {
        var sample = new EventBatch
        {
            Context = context.Value,
            Events = [new TelemetryEvent { Id = Guid.CreateVersion7(), Name = "warm_up", Properties = new Dictionary<string, PropertyValue> { ["s"] = "s", ["i"] = 1 } }],
        };
        WireJson.WriteBatch(Stream.Null, sample);
        _ = WireJson.SerializeEvent(sample.Events[0]);
        sender?.Http.WarmUp(sample);
    }
}
