using System.Net;
using BenchmarkDotNet.Attributes;
using Candor.AspNetCore;
using Candor.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Candor.Benchmarks;

/// <summary>
/// Candor's request usage on what a server really hands it: the <see cref="HttpContext"/> of a live
/// Kestrel request (Kestrel's own features and its request headers, routing's endpoint set), with
/// Candor's real aggregator and sink from a service that added Candor with telemetry on. The request
/// is held open while the middleware runs around a next that has already completed, so only Candor's
/// own work is timed; <see cref="NoMiddleware"/> calls the same next alone. Compare
/// <see cref="RequestUsageBenchmarks"/>, which runs on a <see cref="DefaultHttpContext"/> whose
/// features and headers are dictionary lookups.
/// </summary>
[MemoryDiagnoser]
public class RequestUsageKestrelBenchmarks
{
    private const int Requests = 1000;

    private readonly TaskCompletionSource<HttpContext> _captured = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication _app = null!;
    private HttpClient _http = null!;
    private Task<HttpResponseMessage> _response = null!;
    private HttpContext _context = null!;
    private RequestDelegate _none = null!;
    private RequestDelegate _candor = null!;
    private string? _stateDirectory;

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _stateDirectory = Directory.CreateTempSubdirectory("candor-bench-").FullName;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddCandor(options =>
        {
            options.ProductName = "bench-server";
            options.Telemetry = "anonymous";
            // Nothing listens there; the usage interval is longer than the run, so nothing is sent.
            options.Endpoint = new Uri("http://127.0.0.1:9/");
            options.WriteKey = "wk_bench_0000000000000000";
            options.StateDirectory = _stateDirectory;
            options.UsageInterval = TimeSpan.FromHours(1);
            options.HeartbeatInterval = TimeSpan.FromHours(1);
        }).AddCandorHttpUsage();
        _app = builder.Build();
        _app.MapGet("/items/{id}", async (HttpContext context) =>
        {
            _captured.TrySetResult(context);
            await _release.Task;
            return "ok";
        });
        await _app.StartAsync();

        var address = _app.Urls.First();
        _http = new HttpClient();
        var request = new HttpRequestMessage(HttpMethod.Get, address + "/items/42");
        request.Headers.TryAddWithoutValidation("User-Agent", "python-requests/2.31.0");
        request.Headers.TryAddWithoutValidation("Accept-Language", "en-US,en;q=0.9");
        _response = _http.SendAsync(request);
        _context = await _captured.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var services = _app.Services;
        if (!services.GetRequiredService<IHttpUsageSink>().IsEnabled(TelemetryPart.HttpUsage))
        {
            throw new InvalidOperationException("Candor's request usage is off: the benchmark would time the check alone.");
        }

        RequestDelegate next = static _ => Task.CompletedTask;
        _none = next;
        _candor = new HttpUsageMiddleware(next, services.GetRequiredService<HttpUsageAggregator>(), services.GetRequiredService<IHttpUsageSink>()).InvokeAsync;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _release.TrySetResult();
        _response.GetAwaiter().GetResult().Dispose();
        _http.Dispose();
        _app.StopAsync().GetAwaiter().GetResult();
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_stateDirectory!, recursive: true);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Requests)]
    public bool NoMiddleware() => Run(_none);

    [Benchmark(OperationsPerInvoke = Requests)]
    public bool Candor() => Run(_candor);

    /// <summary>The part of <see cref="Candor"/> that is the two clock reads that time a request.</summary>
    [Benchmark(OperationsPerInvoke = Requests)]
    public long ClockReadsOnly()
    {
        long sum = 0;
        for (var i = 0; i < Requests; i++)
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            sum += System.Diagnostics.Stopwatch.GetTimestamp() - start;
        }

        return sum;
    }

    /// <summary>The part of <see cref="Candor"/> that is reading the request: endpoint, method, status
    /// and the two headers, as Kestrel serves them.</summary>
    [Benchmark(OperationsPerInvoke = Requests)]
    public int ContextReadsOnly()
    {
        var sum = 0;
        for (var i = 0; i < Requests; i++)
        {
            var endpoint = _context.GetEndpoint();
            sum += _context.Response.StatusCode + _context.Request.Method.Length + (endpoint is null ? 0 : 1);
            var headers = _context.Request.Headers;
            sum += headers.UserAgent.Count + headers.AcceptLanguage.Count;
        }

        return sum;
    }

    /// <summary>The part of <see cref="Candor"/> that is asking whether each part is on.</summary>
    [Benchmark(OperationsPerInvoke = Requests)]
    public int PartChecksOnly()
    {
        var sink = _app.Services.GetRequiredService<IHttpUsageSink>();
        var sum = 0;
        for (var i = 0; i < Requests; i++)
        {
            sum += (sink.IsEnabled(TelemetryPart.HttpUsage) ? 1 : 0) + (sink.IsEnabled(TelemetryPart.Errors) ? 1 : 0);
        }

        return sum;
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
}
