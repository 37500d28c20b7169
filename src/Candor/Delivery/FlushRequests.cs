namespace Candor.Delivery;

/// <summary>The callers of <c>FlushAsync</c> waiting for the delivery thread's next pass.</summary>
internal sealed class FlushRequests
{
    private readonly List<TaskCompletionSource> _waiters = [];

    /// <summary>Whether a caller is waiting: the loop stops lingering.</summary>
    public bool Any
    {
        get
        {
            lock (_waiters)
            {
                return _waiters.Count > 0;
            }
        }
    }

    /// <summary>Adds a caller; its task completes after the pass that follows.</summary>
    public Task Add()
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            _waiters.Add(waiter);
        }

        return waiter.Task;
    }

    /// <summary>Takes the callers waiting now: the pass about to run answers them.</summary>
    public List<TaskCompletionSource> Take()
    {
        lock (_waiters)
        {
            List<TaskCompletionSource> taken = [.. _waiters];
            _waiters.Clear();
            return taken;
        }
    }

    /// <summary>Answers every caller still waiting (the loop has ended).</summary>
    public void ReleaseAll() => Take().ForEach(w => w.TrySetResult());
}
