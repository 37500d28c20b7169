namespace Candor.Delivery;

/// <summary>
/// The client's bounded queue: many writers (<c>Track</c>), one reader (the delivery thread). A full or
/// completed queue refuses the event at once; nothing ever waits.
/// </summary>
/// <remarks>
/// Written out for <see cref="QueuedEvent"/> rather than a <c>Channel&lt;QueuedEvent&gt;</c>: the channel's
/// generic code instantiated over a struct from this assembly cannot be precompiled in a ReadyToRun image,
/// so a short-lived tool JIT-compiled about 30 channel methods at startup and at exit. This class is
/// compiled with the SDK. A lock is what the bounded channel takes too.
/// </remarks>
internal sealed class EventQueue(int capacity)
{
    private readonly Lock _lock = new();
    private QueuedEvent[] _items = new QueuedEvent[Math.Min(capacity, 16)];
    private int _head;
    private int _count;
    private bool _completed;

    public int Capacity { get; } = capacity;

    /// <summary>Adds the event; false when the queue is full or completed.</summary>
    public bool TryWrite(QueuedEvent item)
    {
        lock (_lock)
        {
            if (_completed || _count >= Capacity)
            {
                return false;
            }

            if (_count == _items.Length)
            {
                Grow();
            }

            _items[(_head + _count) % _items.Length] = item;
            _count++;
            return true;
        }
    }

    /// <summary>Takes the oldest event; false when the queue is empty.</summary>
    public bool TryRead(out QueuedEvent item)
    {
        lock (_lock)
        {
            if (_count == 0)
            {
                item = default;
                return false;
            }

            item = _items[_head];
            _items[_head] = default;
            _head = (_head + 1) % _items.Length;
            _count--;
            return true;
        }
    }

    /// <summary>Refuses every later write; what is queued can still be read.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
        }
    }

    private void Grow()
    {
        var grown = new QueuedEvent[Math.Min(Math.Max(_items.Length * 2, 16), Capacity)];
        for (var i = 0; i < _count; i++)
        {
            grown[i] = _items[(_head + i) % _items.Length];
        }

        _items = grown;
        _head = 0;
    }
}
