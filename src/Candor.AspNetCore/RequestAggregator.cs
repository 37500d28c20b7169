using System.Collections.Concurrent;
using System.Diagnostics;
using Candor.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Candor.AspNetCore;

/// <summary>
/// Requests per route template, method and status class: counts, server errors, the duration sum and
/// the duration histogram. Each endpoint gets a <see cref="RouteSlot"/> once (keyed by the endpoint
/// object, so the path is never looked at and the steady state allocates nothing); its cells are
/// counted with <see cref="Interlocked"/> and drained (read and zeroed) when the interval is recorded.
/// </summary>
internal sealed class RequestAggregator
{
    /// <summary>At most this many routes are counted by name; requests of further endpoints are
    /// counted as <see cref="OtherRoute"/> (a service that makes endpoints on the fly cannot grow it).
    /// Routes idle for a whole interval give their place back.</summary>
    public const int DefaultMaxRoutes = 200;

    /// <summary>The longest route recorded (the event's schema allows 200 characters).</summary>
    public const int MaxRouteLength = 200;

    public const string UnmatchedRoute = "(unmatched)";
    public const string OtherRoute = "(other)";

    private readonly ConcurrentDictionary<Endpoint, RouteSlot> _routes = new();
    private readonly RouteSlot _unmatched = new(UnmatchedRoute);
    private readonly RouteSlot _other = new(OtherRoute);
    private readonly int _maxRoutes;
    private int _routeCount;

    // Raised whenever a flush removes a slot, so that no thread's last slot outlives its removal.
    private int _generation;

    // The thread's last endpoint and its slot: a thread serves the same few routes again and again, so
    // most requests skip the dictionary (as ClientAggregator does for header pairs).
    [ThreadStatic]
    private static LastSlot? t_last;

    // Slots removed at the last flush: a request that took one just before its removal still counts,
    // in the next interval.
    private List<RouteSlot> _retired = [];

    public RequestAggregator(int maxRoutes = DefaultMaxRoutes) => _maxRoutes = maxRoutes;

    /// <summary>The slot of the request's endpoint: its route template, or <see cref="UnmatchedRoute"/>.</summary>
    public RouteSlot SlotFor(Endpoint? endpoint)
    {
        if (endpoint is null)
        {
            return _unmatched;
        }

        var generation = Volatile.Read(ref _generation);
        var last = t_last ??= new LastSlot();
        if (ReferenceEquals(last.Endpoint, endpoint) && ReferenceEquals(last.Owner, this) && last.Generation == generation
            && last.Slot is { } known)
        {
            return known;
        }

        var slot = _routes.TryGetValue(endpoint, out var found) ? found : AddSlot(endpoint);
        if (!ReferenceEquals(slot, _other))
        {
            (last.Owner, last.Endpoint, last.Generation, last.Slot) = (this, endpoint, generation, slot);
        }

        return slot;
    }

    private sealed class LastSlot
    {
        public RequestAggregator? Owner;
        public Endpoint? Endpoint;
        public int Generation;
        public RouteSlot? Slot;
    }

    private RouteSlot AddSlot(Endpoint endpoint)
    {
        if (Interlocked.Increment(ref _routeCount) > _maxRoutes)
        {
            Interlocked.Decrement(ref _routeCount);
            return _other;
        }

        var added = new RouteSlot(RouteOf(endpoint));
        var slot = _routes.GetOrAdd(endpoint, added);
        if (!ReferenceEquals(slot, added))
        {
            Interlocked.Decrement(ref _routeCount); // another request added it first
        }

        return slot;
    }

    /// <summary>The route template of <paramref name="endpoint"/> (never the path), with a leading
    /// <c>/</c> (controllers' templates have none); <see cref="OtherRoute"/> for endpoints without one.</summary>
    internal static string RouteOf(Endpoint endpoint)
    {
        if (endpoint is not RouteEndpoint { RoutePattern.RawText: { Length: > 0 } raw })
        {
            return OtherRoute;
        }

        var route = raw[0] == '/' ? raw : "/" + raw;
        return route.Length <= MaxRouteLength ? route : route[..MaxRouteLength];
    }

    /// <summary>Hands each non-empty (route, method, status class) total of the interval to
    /// <paramref name="record"/>, merged across endpoints that share a template, and zeroes them.
    /// Routes that had no request give their place back.</summary>
    public void Drain(Action<RequestTotals> record)
    {
        var totals = new Dictionary<(string Route, int Method, int StatusClass), RequestTotals>();
        var retired = _retired;
        _retired = [];
        foreach (var slot in retired)
        {
            slot.DrainInto(totals);
        }

        _unmatched.DrainInto(totals);
        _other.DrainInto(totals);
        foreach (var (endpoint, slot) in _routes)
        {
            if (slot.DrainInto(totals) == 0 && _routes.TryRemove(endpoint, out _))
            {
                Interlocked.Increment(ref _generation);
                Interlocked.Decrement(ref _routeCount);
                slot.DrainInto(totals);
                _retired.Add(slot);
            }
        }

        foreach (var total in totals.Values)
        {
            record(total);
        }
    }
}

/// <summary>One route's counters: one <see cref="RequestCell"/> per method and status class, made on
/// first use.</summary>
internal sealed class RouteSlot(string route)
{
    private const int StatusClasses = 5;
    private readonly RequestCell?[] _cells = new RequestCell?[HttpMethodNames.Count * StatusClasses];

    public string Route { get; } = route;

    /// <summary>Counts one request that took <paramref name="elapsedTicks"/> (<see cref="Stopwatch"/> ticks).</summary>
    public void Record(int method, int status, long elapsedTicks, bool failed)
    {
        var index = (method * StatusClasses) + StatusClassIndex(status);
        var cell = Volatile.Read(ref _cells[index]) ?? AddCell(index);
        cell.Record(elapsedTicks, failed);
    }

    private RequestCell AddCell(int index)
    {
        var added = new RequestCell();
        return Interlocked.CompareExchange(ref _cells[index], added, null) ?? added;
    }

    /// <summary>0 for 1xx to 4 for 5xx; statuses outside 100-599 count with the nearest class.</summary>
    internal static int StatusClassIndex(int status) => Math.Clamp((status / 100) - 1, 0, StatusClasses - 1);

    /// <summary>Adds this slot's counts to <paramref name="totals"/> and zeroes them; returns how many requests.</summary>
    internal long DrainInto(Dictionary<(string Route, int Method, int StatusClass), RequestTotals> totals)
    {
        long drained = 0;
        for (var index = 0; index < _cells.Length; index++)
        {
            if (Volatile.Read(ref _cells[index]) is not { } cell)
            {
                continue;
            }

            var key = (Route, index / StatusClasses, index % StatusClasses);
            if (!totals.TryGetValue(key, out var total))
            {
                total = new RequestTotals(Route, HttpMethodNames.Names[key.Item2], key.Item3 + 1);
            }

            var count = cell.DrainInto(total);
            if (count > 0)
            {
                totals[key] = total;
                drained += count;
            }
        }

        return drained;
    }
}

/// <summary>The counters of one route, method and status class. The request count is the sum of the
/// histogram buckets, so the histogram always adds up to the count.</summary>
internal sealed class RequestCell
{
    private static readonly long[] BucketBounds = [.. EventConventions.DurationBuckets.Select(ms => ms * Stopwatch.Frequency / 1000)];

    /// <summary>The number of buckets, the last one for durations above the last bound.</summary>
    public static int BucketCount => BucketBounds.Length + 1;

    private readonly long[] _buckets = new long[BucketCount];
    private long _errors;
    private long _elapsedTicks;

    public void Record(long elapsedTicks, bool failed)
    {
        Interlocked.Increment(ref _buckets[BucketOf(elapsedTicks)]);
        Interlocked.Add(ref _elapsedTicks, elapsedTicks);
        if (failed)
        {
            Interlocked.Increment(ref _errors);
        }
    }

    internal static int BucketOf(long elapsedTicks)
    {
        var bounds = BucketBounds;
        for (var i = 0; i < bounds.Length; i++)
        {
            if (elapsedTicks <= bounds[i])
            {
                return i;
            }
        }

        return bounds.Length;
    }

    /// <summary>Adds the counts to <paramref name="total"/> and zeroes them; returns how many requests.</summary>
    public long DrainInto(RequestTotals total)
    {
        long count = 0;
        for (var i = 0; i < _buckets.Length; i++)
        {
            var inBucket = Interlocked.Exchange(ref _buckets[i], 0);
            total.Buckets[i] += inBucket;
            count += inBucket;
        }

        total.Count += count;
        total.Errors += Interlocked.Exchange(ref _errors, 0);
        total.ElapsedTicks += Interlocked.Exchange(ref _elapsedTicks, 0);
        return count;
    }
}

/// <summary>One (route, method, status class) total of an interval, as recorded.</summary>
internal sealed class RequestTotals(string route, string method, int statusClass)
{
    public string Route { get; } = route;
    public string Method { get; } = method;

    /// <summary>1 for 1xx to 5 for 5xx.</summary>
    public int StatusClass { get; } = statusClass;

    public long Count { get; set; }
    public long Errors { get; set; }
    public long ElapsedTicks { get; set; }
    public long[] Buckets { get; } = new long[RequestCell.BucketCount];

    /// <summary>The duration sum in whole milliseconds (rounded).</summary>
    public long DurationSumMs => (long)Math.Round(ElapsedTicks * 1000.0 / Stopwatch.Frequency);
}
