using System.Collections.Concurrent;
using Microsoft.Extensions.Primitives;

namespace Candor.AspNetCore;

/// <summary>
/// Requests per client kind and language (<see cref="ClientKinds"/>). The key is built in a stack
/// buffer and looked up as a span, so a known (client, language) pair allocates nothing. At most
/// <c>maxKeys</c> pairs are counted by name; beyond them the client is counted as <c>other</c>.
/// </summary>
internal sealed class ClientAggregator
{
    public const int DefaultMaxKeys = 200;

    // Neither token can hold it: the key splits back into the two without ambiguity.
    private const char Separator = '|';

    private readonly ConcurrentDictionary<string, ClientCounter> _counters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ClientCounter>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly ClientCounter _overflow = new(ClientKinds.Other, ClientKinds.Other);
    private readonly int _maxKeys;
    private int _keyCount;
    private List<ClientCounter> _retired = [];

    // Bumped by each drain, which may retire counters: a thread's last pair is only reused within one.
    private int _generation;

    [ThreadStatic]
    private static LastPair? t_last;

    private sealed class LastPair
    {
        public ClientAggregator? Owner;
        public int Generation;
        public string? UserAgent;
        public string? Language;
        public ClientCounter? Counter;
    }

    public ClientAggregator(int maxKeys = DefaultMaxKeys)
    {
        _maxKeys = maxKeys;
        _lookup = _counters.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Counts one request with these header values (only their first values are read).</summary>
    public void Record(StringValues userAgent, StringValues acceptLanguage)
    {
        // Servers hand out the same header strings again for the same values on a connection (Kestrel
        // reuses them), so the thread's last pair is usually this one: no parse, no lookup.
        var userAgentText = userAgent.Count > 0 ? userAgent[0] : null;
        var languageText = acceptLanguage.Count > 0 ? acceptLanguage[0] : null;
        var generation = Volatile.Read(ref _generation);
        var last = t_last ??= new LastPair();
        if (ReferenceEquals(last.Owner, this) && last.Generation == generation
            && ReferenceEquals(last.UserAgent, userAgentText) && ReferenceEquals(last.Language, languageText)
            && last.Counter is { } known)
        {
            Interlocked.Increment(ref known.Count);
            return;
        }

        var counter = Find(userAgentText, languageText);
        Interlocked.Increment(ref counter.Count);
        (last.Owner, last.Generation, last.UserAgent, last.Language, last.Counter) = (this, generation, userAgentText, languageText, counter);
    }

    private ClientCounter Find(string? userAgent, string? acceptLanguage)
    {
        Span<char> key = stackalloc char[(ClientKinds.BufferLength * 2) + 1];
        var length = ClientKinds.Client(userAgent, key);
        var clientLength = length;
        key[length++] = Separator;
        length += ClientKinds.Language(acceptLanguage, key[length..]);
        key = key[..length];
        return _lookup.TryGetValue(key, out var counter) ? counter : Add(key, clientLength);
    }

    private ClientCounter Add(ReadOnlySpan<char> key, int clientLength)
    {
        var language = key[(clientLength + 1)..];
        if (Interlocked.Increment(ref _keyCount) > _maxKeys)
        {
            Interlocked.Decrement(ref _keyCount);
            // Beyond the cap the client is "other"; its language is kept when that pair is known.
            Span<char> other = stackalloc char[ClientKinds.Other.Length + 1 + language.Length];
            ClientKinds.Other.CopyTo(other);
            other[ClientKinds.Other.Length] = Separator;
            language.CopyTo(other[(ClientKinds.Other.Length + 1)..]);
            return _lookup.TryGetValue(other, out var known) ? known : _overflow;
        }

        var added = new ClientCounter(key[..clientLength].ToString(), language.ToString());
        var counter = _counters.GetOrAdd(key.ToString(), added);
        if (!ReferenceEquals(counter, added))
        {
            Interlocked.Decrement(ref _keyCount);
        }

        return counter;
    }

    /// <summary>Hands each (client, language, count) of the interval to <paramref name="record"/>, merged
    /// by pair, and zeroes them. Pairs that had no request give their place back.</summary>
    public void Drain(Action<string, string, long> record)
    {
        Interlocked.Increment(ref _generation);
        var totals = new Dictionary<(string Client, string Language), long>();
        var retired = _retired;
        _retired = [];
        foreach (var counter in retired)
        {
            counter.DrainInto(totals);
        }

        _overflow.DrainInto(totals);
        foreach (var (key, counter) in _counters)
        {
            if (counter.DrainInto(totals) == 0 && _counters.TryRemove(key, out _))
            {
                Interlocked.Decrement(ref _keyCount);
                counter.DrainInto(totals);
                _retired.Add(counter);
            }
        }

        foreach (var ((client, language), count) in totals)
        {
            record(client, language, count);
        }
    }
}

/// <summary>The count of one (client, language) pair.</summary>
internal sealed class ClientCounter(string client, string language)
{
    public readonly string Client = client;
    public readonly string Language = language;
    public long Count;

    public long DrainInto(Dictionary<(string Client, string Language), long> totals)
    {
        var count = Interlocked.Exchange(ref Count, 0);
        if (count > 0)
        {
            totals[(Client, Language)] = totals.GetValueOrDefault((Client, Language)) + count;
        }

        return count;
    }
}
