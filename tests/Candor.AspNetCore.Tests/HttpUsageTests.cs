using Candor.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Candor.AspNetCore.Tests;

/// <summary>What a service with <c>AddCandorHttpUsage</c> records of its requests.</summary>
public sealed class HttpUsageTests
{
    internal static void MapRoutes(WebApplication app)
    {
        app.MapGet("/items/{id}", (string id) => Results.Ok(new { id }));
        app.MapPost("/items", () => Results.Created("/items/1", null));
        app.MapGet("/moved", () => Results.Redirect("/items/1"));
        app.MapGet("/missing/{id}", (string id) => Results.NotFound());
        app.MapGet("/broken", () => Results.StatusCode(503));
    }

    [Fact]
    public async Task CountsAndErrorCountsEqualTheRequestsMadePerRouteTemplateMethodAndStatusClass()
    {
        await using var service = await TestService.StartAsync(MapRoutes);
        for (var i = 0; i < 3; i++)
        {
            (await service.Client.GetAsync($"/items/{i}")).EnsureSuccessStatusCode();
        }

        await service.Client.PostAsync("/items", null);
        await service.Client.PostAsync("/items", null);
        await service.Client.GetAsync("/moved");
        await service.Client.GetAsync("/missing/7");
        await service.Client.GetAsync("/broken");
        await service.Client.GetAsync("/broken");
        await service.Client.GetAsync("/no/such/route");

        service.Flush();

        var requests = service.Sink.Named(EventConventions.HttpRequestsEvent);
        var byKey = requests.ToDictionary(e => (e.String("route"), e.String("method"), e.String("status_class")));
        Assert.Equal(3, byKey[("/items/{id}", "GET", "2xx")].Integer("count"));
        Assert.Equal(2, byKey[("/items", "POST", "2xx")].Integer("count"));
        Assert.Equal(1, byKey[("/moved", "GET", "3xx")].Integer("count"));
        Assert.Equal(1, byKey[("/missing/{id}", "GET", "4xx")].Integer("count"));
        Assert.Equal(2, byKey[("/broken", "GET", "5xx")].Integer("count"));
        Assert.Equal(2, byKey[("/broken", "GET", "5xx")].Integer("errors"));
        Assert.Equal(1, byKey[("(unmatched)", "GET", "4xx")].Integer("count"));
        Assert.Equal(6, requests.Count);
        Assert.Equal(10, requests.Sum(e => e.Integer("count")));
        Assert.Equal(2, requests.Sum(e => e.Integer("errors")));
        Assert.All(requests, e => Assert.Equal(e.Integer("count"), e.HistogramSum));
        Assert.All(requests, e => Assert.True(e.Integer("duration_sum_ms") >= 0));

        // All from the same client: one http_clients aggregate counts them all.
        var clients = Assert.Single(service.Sink.Named(EventConventions.HttpClientsEvent));
        Assert.Equal(("none", "none", 10L), (clients.String("client"), clients.String("language"), clients.Integer("count")));

        // The plain 503s are errors without problem details: coded by their status.
        var error = Assert.Single(service.Sink.Named(EventConventions.HttpErrorEvent));
        Assert.Equal(("/broken", "GET", 503L, "http_503", 2L),
            (error.String("route"), error.String("method"), error.Integer("status"), error.String("error_code"), error.Integer("count")));
    }

    [Fact]
    public async Task SecretsInThePathTheQueryAndTheHeadersAppearInNoRecordedProperty()
    {
        await using var service = await TestService.StartAsync(MapRoutes);
        var requests = new[]
        {
            "/items/s3cr3t-path?token=s3cr3t-query",
            "/missing/s3cr3t-path?api_key=s3cr3t-query",
            "/unmapped/s3cr3t-path?q=s3cr3t-query",
        };
        foreach (var uri in requests)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer s3cr3t-header");
            request.Headers.TryAddWithoutValidation("Cookie", "session=s3cr3t-header");
            request.Headers.TryAddWithoutValidation("X-Api-Key", "s3cr3t-header");
            request.Headers.TryAddWithoutValidation("User-Agent", "curl/8.5.0 (s3cr3t-header)");
            request.Headers.TryAddWithoutValidation("Accept-Language", "en-US;s3cr3t-header,fr;q=0.5");
            await service.Client.SendAsync(request);
        }

        using var post = new HttpRequestMessage(HttpMethod.Post, "/items?s3cr3t-query") { Content = new StringContent("s3cr3t-body") };
        await service.Client.SendAsync(post);
        service.Flush();

        Assert.NotEmpty(service.Sink.Events);
        foreach (var recorded in service.Sink.Events)
        {
            foreach (var (name, value) in recorded.Properties)
            {
                Assert.DoesNotContain("s3cr3t", value.ToString(), StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain("s3cr3t", name, StringComparison.OrdinalIgnoreCase);
            }
        }

        var routes = service.Sink.Named(EventConventions.HttpRequestsEvent).Select(e => e.String("route")).Order();
        Assert.Equal(["(unmatched)", "/items", "/items/{id}", "/missing/{id}"], routes);
        var curl = service.Sink.Named(EventConventions.HttpClientsEvent).Single(e => e.String("client") == "curl/8");
        Assert.Equal(("en", 3L), (curl.String("language"), curl.Integer("count")));
    }

    [Fact]
    public async Task ConcurrentRequestsAreAllCountedWhileIntervalsAreRecorded()
    {
        await using var service = await TestService.StartAsync(MapRoutes);
        using var flushing = new CancellationTokenSource();
        var flusher = Task.Run(async () =>
        {
            while (!flushing.IsCancellationRequested)
            {
                service.Flush();
                await Task.Delay(1);
            }
        });

        await Parallel.ForAsync(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, token) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, i % 2 == 0 ? $"/items/{i}" : "/broken");
            request.Headers.TryAddWithoutValidation("User-Agent", $"tool{i % 3}/1.{i}");
            using var response = await service.Client.SendAsync(request, token);
        });
        await flushing.CancelAsync();
        await flusher;
        service.Flush();

        var requests = service.Sink.Named(EventConventions.HttpRequestsEvent);
        Assert.Equal(400, requests.Sum(e => e.Integer("count")));
        Assert.Equal(200, requests.Sum(e => e.Integer("errors")));
        Assert.Equal(400, requests.Sum(e => e.HistogramSum));
        Assert.Equal(400, service.Sink.Named(EventConventions.HttpClientsEvent).Sum(e => e.Integer("count")));
        Assert.Equal(200, service.Sink.Named(EventConventions.HttpErrorEvent).Sum(e => e.Integer("count")));
    }

    [Fact]
    public async Task WithHttpUsageAndErrorsOffNothingIsRecorded()
    {
        await using var service = await TestService.StartAsync(MapRoutes, sink: new FakeUsageSink { HttpUsage = false, Errors = false });
        await service.Client.GetAsync("/items/1");
        await service.Client.GetAsync("/broken");
        service.Flush();
        await service.StopAsync();

        Assert.Empty(service.Sink.Events);
    }

    [Fact]
    public async Task WithHttpUsageOffOnlyErrorsAreRecorded()
    {
        await using var service = await TestService.StartAsync(MapRoutes, sink: new FakeUsageSink { HttpUsage = false });
        await service.Client.GetAsync("/items/1");
        await service.Client.GetAsync("/broken");
        service.Flush();

        var only = Assert.Single(service.Sink.Events);
        Assert.Equal(EventConventions.HttpErrorEvent, only.Name);
    }

    [Fact]
    public async Task RequestsCountedWhileHttpUsageWasOnAreDroppedWhenItIsOffAtTheFlush()
    {
        await using var service = await TestService.StartAsync(MapRoutes);
        await service.Client.GetAsync("/items/1");
        service.Sink.HttpUsage = false;
        service.Flush();
        service.Sink.HttpUsage = true;
        service.Flush();

        Assert.Empty(service.Sink.Events);
    }

    [Fact]
    public async Task AnIntervalWithoutRequestsRecordsNothing()
    {
        await using var service = await TestService.StartAsync(MapRoutes);
        await service.Client.GetAsync("/items/1");
        service.Flush();
        var afterFirst = service.Sink.Events.Count;

        service.Flush();
        service.Flush();

        Assert.Equal(2, afterFirst); // http_requests and http_clients
        Assert.Equal(afterFirst, service.Sink.Events.Count);
    }

    [Fact]
    public async Task EachIntervalCountsOnlyItsOwnRequests()
    {
        await using var service = await TestService.StartAsync(MapRoutes);
        await service.Client.GetAsync("/items/1");
        await service.Client.GetAsync("/items/2");
        service.Flush();
        await service.Client.GetAsync("/items/3");
        service.Flush();

        var counts = service.Sink.Named(EventConventions.HttpRequestsEvent).Select(e => e.Integer("count"));
        Assert.Equal([2L, 1L], counts);
    }

    [Fact]
    public async Task TheLastIntervalIsRecordedWhenTheHostStops()
    {
        await using var service = await TestService.StartAsync(MapRoutes);
        await service.Client.GetAsync("/items/1");
        await service.Client.GetAsync("/broken");

        await service.StopAsync();

        Assert.Equal(2, service.Sink.Named(EventConventions.HttpRequestsEvent).Sum(e => e.Integer("count")));
        Assert.Single(service.Sink.Named(EventConventions.HttpErrorEvent));
    }

    [Fact]
    public async Task TheUsageMiddlewareIsTheFirstInThePipeline()
    {
        // A startup filter registered before AddCandorHttpUsage would otherwise wrap it; its middleware
        // answers the request itself, and the request is still counted.
        await using var service = await TestService.StartAsync(MapRoutes,
            services => services.AddTransient<Microsoft.AspNetCore.Hosting.IStartupFilter, ShortCircuitFilter>());
        await service.Client.GetAsync("/short-circuit");
        service.Flush();

        var recorded = Assert.Single(service.Sink.Named(EventConventions.HttpRequestsEvent));
        Assert.Equal(("(unmatched)", "4xx"), (recorded.String("route"), recorded.String("status_class")));
    }

    private sealed class ShortCircuitFilter : Microsoft.AspNetCore.Hosting.IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((HttpContext context, RequestDelegate inner) =>
            {
                if (context.Request.Path == "/short-circuit")
                {
                    context.Response.StatusCode = 418;
                    return Task.CompletedTask;
                }

                return inner(context);
            });
            next(app);
        };
    }
}
