using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Candor.AspNetCore;

/// <summary>
/// Failed requests per route, method, status, exception type and error code. At most <c>maxKeys</c>
/// keys are counted by name; beyond them a request is counted under one
/// <see cref="RequestAggregator.OtherRoute"/> key per status with the code <c>other</c>. Keys idle for
/// a whole interval give their place back.
/// </summary>
internal sealed class ErrorAggregator(int maxKeys = ErrorAggregator.DefaultMaxKeys)
{
    public const int DefaultMaxKeys = 100;
    public const string OtherCode = "other";

    private readonly ConcurrentDictionary<ErrorKey, StrongBox<long>> _counts = new();
    private int _keyCount;
    private List<(ErrorKey Key, StrongBox<long> Count)> _retired = [];

    /// <summary>Counts one failed request.</summary>
    public void Record(string route, string method, int status, string? errorType, string errorCode)
    {
        var key = new ErrorKey(route, method, status, errorType, errorCode);
        if (!_counts.TryGetValue(key, out var count))
        {
            count = Add(key);
        }

        Interlocked.Increment(ref count.Value);
    }

    private StrongBox<long> Add(ErrorKey key)
    {
        if (Interlocked.Increment(ref _keyCount) > maxKeys)
        {
            // The overflow keys (one per status) are kept in the count too, so that a removal always
            // gives back what an addition took.
            key = new ErrorKey(RequestAggregator.OtherRoute, HttpMethodNames.Names[HttpMethodNames.Other], key.Status, null, OtherCode);
        }

        var added = new StrongBox<long>();
        var count = _counts.GetOrAdd(key, added);
        if (!ReferenceEquals(count, added))
        {
            Interlocked.Decrement(ref _keyCount);
        }

        return count;
    }

    /// <summary>Hands each error key of the interval with its count to <paramref name="record"/> and
    /// zeroes them.</summary>
    public void Drain(Action<ErrorKey, long> record)
    {
        var totals = new Dictionary<ErrorKey, long>();
        var retired = _retired;
        _retired = [];
        foreach (var (key, count) in retired)
        {
            Add(totals, key, count);
        }

        foreach (var (key, count) in _counts)
        {
            if (Add(totals, key, count) == 0 && _counts.TryRemove(key, out _))
            {
                Interlocked.Decrement(ref _keyCount);
                Add(totals, key, count);
                _retired.Add((key, count));
            }
        }

        foreach (var (key, count) in totals)
        {
            record(key, count);
        }
    }

    private static long Add(Dictionary<ErrorKey, long> totals, ErrorKey key, StrongBox<long> count)
    {
        var value = Interlocked.Exchange(ref count.Value, 0);
        if (value > 0)
        {
            totals[key] = totals.GetValueOrDefault(key) + value;
        }

        return value;
    }
}

/// <summary>What an <c>http_error</c> aggregate is keyed by.</summary>
internal readonly record struct ErrorKey(string Route, string Method, int Status, string? ErrorType, string ErrorCode);
