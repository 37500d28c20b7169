using System.Diagnostics;
using Candor.Protocol;
using Candor.Transparency;

namespace Candor.Delivery;

/// <summary>
/// The last pass of the delivery thread when the client stops: what is left (batches carried over from
/// an interrupted retry, then the rest of the queue) goes to the spool first, then each batch is sent
/// once within the flush budget and its file deleted when delivered; older spooled batches follow with
/// what is left. The budget itself is kept by the thread that stops the client (<see cref="WaitWithin"/>),
/// which cuts the requests short through <see cref="BatchSender.CutShort"/>. A deletion the user asked
/// for that the cold start did not get to (<paramref name="pendingForgets"/>) is sent first, once the
/// batches are safe in the spool.
/// </summary>
internal sealed class ExitFlush(BatchAssembler batches, BatchSender? sender, Spool? spool, TelemetryLevel level, TransparencyLog? log,
    Action? pendingForgets = null)
{
    private readonly List<EventBatch> _carried = [];

    /// <summary>Keeps a batch whose retries the stop interrupted, for the exit flush.</summary>
    public void Carry(EventBatch batch) => _carried.Add(batch);

    /// <summary>
    /// The stopping thread's side of the budget: waits for the delivery thread to finish its exit flush
    /// (<paramref name="join"/>) until the budget less a reserve for writing the spool is spent, then cuts
    /// the requests short and waits what is left. True when the thread finished in time. The waiting and
    /// the cutting happen on the calling thread, so they need no timer and no pool thread; the budget is
    /// real time whatever the client's clock (see <see cref="TimedWaits"/>).
    /// </summary>
    /// <param name="budget">The flush budget.</param>
    /// <param name="started">When the stop began (<see cref="Stopwatch.GetTimestamp"/>).</param>
    /// <param name="join">Waits at most the given time for the delivery thread; true when it finished.</param>
    /// <param name="sender">What to cut short; null when nothing is sent.</param>
    public static bool WaitWithin(TimeSpan budget, long started, Func<TimeSpan, bool> join, BatchSender? sender)
    {
        if (join(SendBudget(budget)))
        {
            return true;
        }

        sender?.CutShort();
        return join(Left(budget, started));
    }

    /// <summary>As <see cref="WaitWithin"/>, without blocking the caller: waits for <paramref name="exited"/>.</summary>
    public static async Task<bool> WaitWithinAsync(TimeSpan budget, long started, Task exited, BatchSender? sender)
    {
        try
        {
            await exited.WaitAsync(SendBudget(budget)).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
        }

        sender?.CutShort();
        try
        {
            await exited.WaitAsync(Left(budget, started)).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    // Writing the spool takes a few milliseconds; keep a quarter of the budget (at most 50 ms) for it.
    private static TimeSpan SendBudget(TimeSpan budget) =>
        budget - TimeSpan.FromTicks(Math.Min(budget.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks));

    private static TimeSpan Left(TimeSpan budget, long started)
    {
        var left = budget - Stopwatch.GetElapsedTime(started);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>Sends (or spools) everything left, then, when all of it was delivered, drains the spool.</summary>
    public void Run()
    {
        if (SendRest())
        {
            // This run's events are out; what earlier runs left goes next, within what is left of the budget.
            sender!.DrainSpool();
        }
    }

    /// <summary>True when everything was delivered.</summary>
    private bool SendRest()
    {
        var all = new List<EventBatch>(_carried);
        var taken = batches.TakeAll();
        all.AddRange(taken);
        try
        {
            return sender is not null && SpoolThenSend(sender, all);
        }
        finally
        {
            // The user's record comes last at exit: delivery and the spool matter more within the budget.
            if (taken.Count > 0)
            {
                log?.Append(taken.SelectMany(b => b.Events));
            }
        }
    }

    private bool SpoolThenSend(BatchSender sender, List<EventBatch> all)
    {
        // Write-ahead: the batches are on disk before the last attempt, so a process that exits at the
        // end of the budget (or is killed) loses nothing; a delivered batch's file is deleted. A resend
        // after a lost delete is harmless, because event ids are idempotency keys.
        var spooled = all.Select(b => spool?.Write(b, level)).ToList();

        if (!sender.IsCutShort)
        {
            pendingForgets?.Invoke();
        }

        // One attempt per batch, and none once one has failed or while the collector asked us to back off.
        var giveUp = sender.IsCutShort || sender.BackingOff;
        for (var i = 0; i < all.Count && !giveUp; i++)
        {
            var result = sender.SendOnce(all[i], Timeout.InfiniteTimeSpan);
            if (result.Outcome == SendOutcome.Retry)
            {
                giveUp = true;
            }
            else if (spooled[i] is { } path)
            {
                Spool.Delete(path);
            }
        }

        return !giveUp;
    }
}
