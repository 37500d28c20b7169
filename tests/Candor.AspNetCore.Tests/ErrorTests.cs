using System.Net;
using Candor.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Candor.AspNetCore.Tests;

/// <summary>How failed requests become <c>http_error</c> aggregates: type and code, never a message.</summary>
public sealed class ErrorTests
{
    private sealed class ImportException(string message) : Exception(message);

    private static void MapFailures(WebApplication app)
    {
        app.MapPost("/imports/{id}", (string id) => id == "boom"
            ? throw new ImportException("s3cr3t message about " + id)
            : Results.Ok());
        app.MapPost("/imports", () => Results.Problem(
            title: "The import is too large (s3cr3t title)", statusCode: 413,
            extensions: new Dictionary<string, object?> { ["code"] = "import_too_large" }));
        app.MapGet("/quota", () => TypedResults.Problem(statusCode: 429, type: "quota_exceeded"));
        app.MapGet("/uri-typed", () => TypedResults.Problem(statusCode: 409, type: "https://example.com/problems/conflict"));
        app.MapGet("/invalid", () => Results.BadRequest());
    }

    [Fact]
    public async Task AnUnhandledExceptionIsRecordedWithItsTypeAndCodeAndTheServersResponseIsUnchanged()
    {
        await using var without = await TestService.StartAsync(MapFailures, withCandor: false, kestrel: true);
        await using var with = await TestService.StartAsync(MapFailures, kestrel: true);

        using var plain = await without.Client.PostAsync("/imports/boom", null);
        using var counted = await with.Client.PostAsync("/imports/boom", null);
        await with.Client.PostAsync("/imports/boom", null);
        with.Flush();

        Assert.Equal(HttpStatusCode.InternalServerError, plain.StatusCode);
        Assert.Equal(plain.StatusCode, counted.StatusCode);
        Assert.Equal(await plain.Content.ReadAsStringAsync(), await counted.Content.ReadAsStringAsync());
        Assert.Equal(plain.Content.Headers.ContentType, counted.Content.Headers.ContentType);

        var error = Assert.Single(with.Sink.Named(EventConventions.HttpErrorEvent));
        Assert.Equal(("/imports/{id}", "POST", 500L, typeof(ImportException).FullName, "0x80131500", 2L),
            (error.String("route"), error.String("method"), error.Integer("status"), error.String("error_type"),
             error.String("error_code"), error.Integer("count")));
        var requests = Assert.Single(with.Sink.Named(EventConventions.HttpRequestsEvent));
        Assert.Equal(("5xx", 2L, 2L), (requests.String("status_class"), requests.Integer("count"), requests.Integer("errors")));
        Assert.DoesNotContain(with.Sink.Events.SelectMany(e => e.Properties.Values), v => v.ToString().Contains("s3cr3t", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheMiddlewareLetsTheSameExceptionGoOnWhetherNextThrowsOrFaults()
    {
        var sink = new FakeUsageSink();
        var aggregator = new HttpUsageAggregator();
        var thrown = new InvalidOperationException("s3cr3t");
        var throwing = new HttpUsageMiddleware(_ => throw thrown, aggregator, sink);
        var faulting = new HttpUsageMiddleware(async _ => { await Task.Yield(); throw thrown; }, aggregator, sink);

        Assert.Same(thrown, await Assert.ThrowsAsync<InvalidOperationException>(() => throwing.InvokeAsync(new DefaultHttpContext())));
        Assert.Same(thrown, await Assert.ThrowsAsync<InvalidOperationException>(() => faulting.InvokeAsync(new DefaultHttpContext())));
        Assert.Contains(nameof(TheMiddlewareLetsTheSameExceptionGoOnWhetherNextThrowsOrFaults), thrown.StackTrace, StringComparison.Ordinal);
        aggregator.Flush(sink);

        var error = Assert.Single(sink.Named(EventConventions.HttpErrorEvent));
        Assert.Equal(("(unmatched)", 2L), (error.String("route"), error.Integer("count")));
    }

    [Fact]
    public async Task ARequestTheClientAbandonedIsNotAServerError()
    {
        var sink = new FakeUsageSink();
        var aggregator = new HttpUsageAggregator();
        using var aborted = new CancellationTokenSource();
        await aborted.CancelAsync();
        var middleware = new HttpUsageMiddleware(context => Task.FromCanceled(context.RequestAborted), aggregator, sink);

        await Assert.ThrowsAsync<TaskCanceledException>(() => middleware.InvokeAsync(new DefaultHttpContext { RequestAborted = aborted.Token }));
        aggregator.Flush(sink);

        var requests = Assert.Single(sink.Named(EventConventions.HttpRequestsEvent));
        Assert.Equal(("4xx", 0L), (requests.String("status_class"), requests.Integer("errors")));
        Assert.Empty(sink.Named(EventConventions.HttpErrorEvent));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AProblemsCodeExtensionIsItsErrorCodeAndTheResponseIsUnchanged(bool problemDetailsService)
    {
        Action<IServiceCollection>? configure = problemDetailsService ? services => services.AddProblemDetails() : null;
        await using var without = await TestService.StartAsync(MapFailures, configure, withCandor: false);
        await using var with = await TestService.StartAsync(MapFailures, configure);

        using var plain = await without.Client.PostAsync("/imports", null);
        using var counted = await with.Client.PostAsync("/imports", null);
        with.Flush();

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, counted.StatusCode);
        Assert.Equal(Normalize(await plain.Content.ReadAsStringAsync()), Normalize(await counted.Content.ReadAsStringAsync()));
        var error = Assert.Single(with.Sink.Named(EventConventions.HttpErrorEvent));
        // Without the problem details service nothing hands Candor the problem: its content type tells
        // it is one, and the status codes it.
        var expected = problemDetailsService ? "import_too_large" : "http_413";
        Assert.Equal(("/imports", 413L, expected), (error.String("route"), error.Integer("status"), error.String("error_code")));
        Assert.Null(error.String("error_type"));
    }

    [Fact]
    public async Task AProblemsShortTypeIsItsCodeButAUriTypeIsNot()
    {
        await using var service = await TestService.StartAsync(MapFailures, services => services.AddProblemDetails());
        await service.Client.GetAsync("/quota");
        await service.Client.GetAsync("/uri-typed");
        service.Flush();

        var codes = service.Sink.Named(EventConventions.HttpErrorEvent).ToDictionary(e => e.String("route")!, e => e.String("error_code"));
        Assert.Equal("quota_exceeded", codes["/quota"]);
        Assert.Equal("http_409", codes["/uri-typed"]);
    }

    [Fact]
    public async Task ACodeAddedByTheServicesOwnCustomizationIsSeen()
    {
        await using var service = await TestService.StartAsync(MapFailures, services => services.AddProblemDetails(options =>
            options.CustomizeProblemDetails = context => context.ProblemDetails.Extensions["code"] = "customized"));
        await service.Client.GetAsync("/uri-typed");
        service.Flush();

        Assert.Equal("customized", Assert.Single(service.Sink.Named(EventConventions.HttpErrorEvent)).String("error_code"));
    }

    [Fact]
    public async Task APlainClientErrorIsCountedAsARequestButIsNoErrorEvent()
    {
        await using var service = await TestService.StartAsync(MapFailures);
        await service.Client.GetAsync("/invalid");
        service.Flush();

        Assert.Empty(service.Sink.Named(EventConventions.HttpErrorEvent));
        Assert.Equal("4xx", Assert.Single(service.Sink.Named(EventConventions.HttpRequestsEvent)).String("status_class"));
    }

    [Fact]
    public async Task AnExceptionTheExceptionHandlerCaughtKeepsItsTypeAndCode()
    {
        await using var service = await TestService.StartAsync(app =>
        {
            app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = context => Task.CompletedTask, StatusCodeSelector = _ => 502 });
            MapFailures(app);
        }, services => services.AddProblemDetails());
        using var response = await service.Client.PostAsync("/imports/boom", null);
        service.Flush();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = Assert.Single(service.Sink.Named(EventConventions.HttpErrorEvent));
        Assert.Equal(("/imports/{id}", 502L, typeof(ImportException).FullName, "0x80131500"),
            (error.String("route"), error.Integer("status"), error.String("error_type"), error.String("error_code")));
    }

    [Fact]
    public async Task AnExceptionTheExceptionHandlerTurnedIntoAProblemKeepsItsTypeAndCode()
    {
        await using var service = await TestService.StartAsync(app =>
        {
            app.UseExceptionHandler();
            MapFailures(app);
        }, services => services.AddProblemDetails());
        using var response = await service.Client.PostAsync("/imports/boom", null);
        service.Flush();

        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var error = Assert.Single(service.Sink.Named(EventConventions.HttpErrorEvent));
        Assert.Equal(("/imports/{id}", 500L, typeof(ImportException).FullName, "0x80131500"),
            (error.String("route"), error.Integer("status"), error.String("error_type"), error.String("error_code")));
    }

    // The problem details service adds a trace id that differs per request.
    private static string Normalize(string json) => System.Text.RegularExpressions.Regex.Replace(json, "\"traceId\":\"[^\"]*\"", "\"traceId\":\"\"");
}
