using BenchmarkDotNet.Attributes;
using Candor.AspNetCore;
using Candor.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Candor.Benchmarks;

/// <summary>
/// What Candor's request usage adds to one request: the middleware around a next that has already
/// completed, on a request whose endpoint is set (as after routing), with a User-Agent and an
/// Accept-Language. Against no middleware at all (baseline) and with both parts off (the check only).
/// The recorder discards; the aggregates only grow counters, so each invocation is the steady state.
/// </summary>
[MemoryDiagnoser]
public class RequestUsageBenchmarks
{
    private const int Requests = 1000;

    private DefaultHttpContext _context = null!;
    private RequestDelegate _none = null!;
    private RequestDelegate _candor = null!;
    private RequestDelegate _candorOff = null!;
    private readonly HttpUsageAggregator _aggregator = new();
    private RouteEndpoint _endpoint = null!;

    // Equal values in distinct strings, so no request reuses the previous one's parse.
    private readonly string[] _userAgents = [new("python-requests/2.31.0".AsSpan()), new("python-requests/2.31.0".AsSpan())];
    private readonly string[] _languages = [new("en-US,en;q=0.9".AsSpan()), new("en-US,en;q=0.9".AsSpan())];

    [GlobalSetup]
    public void Setup()
    {
        RequestDelegate next = static _ => Task.CompletedTask;
        var endpoint = _endpoint = new RouteEndpoint(next, RoutePatternFactory.Parse("/items/{id}"), 0, EndpointMetadataCollection.Empty, "items");
        _context = new DefaultHttpContext();
        _context.Request.Method = HttpMethods.Get;
        _context.Request.Path = "/items/42";
        _context.Request.Headers.UserAgent = _userAgents[0];
        _context.Request.Headers.AcceptLanguage = _languages[0];
        _context.Response.StatusCode = StatusCodes.Status200OK;
        _context.SetEndpoint(endpoint);

        _none = next;
        _candor = new HttpUsageMiddleware(next, new HttpUsageAggregator(), new DiscardingSink(enabled: true)).InvokeAsync;
        _candorOff = new HttpUsageMiddleware(next, new HttpUsageAggregator(), new DiscardingSink(enabled: false)).InvokeAsync;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Requests)]
    public bool NoMiddleware() => Run(_none);

    [Benchmark(OperationsPerInvoke = Requests)]
    public bool Candor() => Run(_candor);

    [Benchmark(OperationsPerInvoke = Requests)]
    public bool CandorPartsOff() => Run(_candorOff);

    /// <summary>The aggregates' part alone (route slot and client pair, as the middleware records them),
    /// without the clock and the context's feature and header lookups, which on Kestrel are field reads
    /// but on a <see cref="DefaultHttpContext"/> are dictionary lookups.</summary>
    [Benchmark(OperationsPerInvoke = Requests)]
    public void AggregatesOnly()
    {
        var userAgent = _userAgents[0];
        var language = _languages[0];
        for (var i = 0; i < Requests; i++)
        {
            _aggregator.Requests.SlotFor(_endpoint).Record(0, StatusCodes.Status200OK, 1000, failed: false);
            _aggregator.Clients.Record(userAgent, language);
        }
    }

    /// <summary>Each request's headers are new strings (as from new connections): the client kind and
    /// language are parsed and looked up every time.</summary>
    [Benchmark(OperationsPerInvoke = Requests)]
    public bool CandorHeadersParsed()
    {
        var completed = true;
        var headers = _context.Request.Headers;
        for (var i = 0; i < Requests; i++)
        {
            headers.UserAgent = _userAgents[i & 1];
            headers.AcceptLanguage = _languages[i & 1];
            completed &= _candor(_context).IsCompletedSuccessfully;
        }

        return completed;
    }

    private bool Run(RequestDelegate pipeline)
    {
        var completed = true;
        for (var i = 0; i < Requests; i++)
        {
            completed &= pipeline(_context).IsCompletedSuccessfully;
        }

        return completed;
    }

    private sealed class DiscardingSink(bool enabled) : IHttpUsageSink
    {
        public bool IsEnabled(TelemetryPart part) => enabled;

        public void Track(string name, params ReadOnlySpan<EventProperty> properties)
        {
        }
    }
}
