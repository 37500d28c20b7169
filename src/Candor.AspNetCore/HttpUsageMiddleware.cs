using System.Diagnostics;
using Candor.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Candor.AspNetCore;

/// <summary>
/// Counts each request into the <see cref="HttpUsageAggregator"/>: its route template (never its path),
/// method, status, duration, client kind and language, and how it failed. Reads nothing else from the
/// request. First in the pipeline (<see cref="HttpUsageStartupFilter"/>), so it times the whole of it.
/// </summary>
internal sealed class HttpUsageMiddleware(RequestDelegate next, HttpUsageAggregator aggregator, IHttpUsageSink sink)
{
    /// <summary>The status recorded for a request the client gave up on (nginx's convention); not a
    /// server error.</summary>
    internal const int ClientClosedRequest = 499;

    public Task InvokeAsync(HttpContext context)
    {
        var usage = sink.IsEnabled(TelemetryPart.HttpUsage);
        var errors = sink.IsEnabled(TelemetryPart.Errors);
        if (!usage && !errors)
        {
            return next(context);
        }

        var start = Stopwatch.GetTimestamp();
        Task task;
        try
        {
            task = next(context);
        }
        catch (Exception exception) when (RecordUnhandled(context, start, exception, usage, errors))
        {
            throw; // never reached: the filter records and lets the exception go on, stack intact
        }

        if (task.IsCompletedSuccessfully)
        {
            Record(context, start, usage, errors);
            return Task.CompletedTask;
        }

        return AwaitAsync(task, context, start, usage, errors);
    }

    private async Task AwaitAsync(Task task, HttpContext context, long start, bool usage, bool errors)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception exception) when (RecordUnhandled(context, start, exception, usage, errors))
        {
            throw; // never reached, as above
        }

        Record(context, start, usage, errors);
    }

    private void Record(HttpContext context, long start, bool usage, bool errors)
    {
        var elapsed = Stopwatch.GetTimestamp() - start;
        var status = context.Response.StatusCode;
        var endpoint = context.GetEndpoint();
        if (endpoint is null && status >= 500)
        {
            // An exception handler clears the endpoint before it handles; the feature keeps it.
            endpoint = context.Features.Get<IExceptionHandlerFeature>()?.Endpoint;
        }

        var slot = aggregator.Requests.SlotFor(endpoint);
        var method = HttpMethodNames.IndexOf(context.Request.Method);
        if (usage)
        {
            slot.Record(method, status, elapsed, failed: status >= 500);
            var headers = context.Request.Headers;
            aggregator.Clients.Record(headers.UserAgent, headers.AcceptLanguage);
        }

        if (errors && status >= 400)
        {
            RecordFailedResponse(context, slot.Route, HttpMethodNames.Names[method], status);
        }
    }

    /// <summary>A response that failed without an exception reaching this middleware: a problem response
    /// (its code noted by <see cref="ProblemCodeFeature"/>, or <c>http_&lt;status&gt;</c> when it was written
    /// without the problem details service), or any 5xx, with the exception an exception handler caught.</summary>
    private void RecordFailedResponse(HttpContext context, string route, string method, int status)
    {
        var handled = status >= 500 ? context.Features.Get<IExceptionHandlerFeature>()?.Error : null;
        string? code = context.Features.Get<ProblemCodeFeature>()?.Code;
        if (code is null && IsProblem(context.Response.ContentType))
        {
            code = ErrorCodes.OfStatus(status);
        }

        if (code is null && status < 500)
        {
            return; // a plain 4xx is the client's mistake, counted in http_requests only
        }

        // An exception's own code says more than the status an exception handler's problem carries.
        if (handled is not null && (code is null || string.Equals(code, ErrorCodes.OfStatus(status), StringComparison.Ordinal)))
        {
            code = ErrorCodes.Of(handled);
        }

        code ??= ErrorCodes.OfStatus(status);
        aggregator.Errors.Record(route, method, status, handled?.GetType().FullName, code);
    }

    private static bool IsProblem(string? contentType) =>
        contentType is not null && contentType.StartsWith("application/problem+", StringComparison.OrdinalIgnoreCase);

    /// <summary>Counts a request whose exception reached this middleware; always false, so the exception
    /// is not caught (it goes on to the server unchanged).</summary>
    private bool RecordUnhandled(HttpContext context, long start, Exception exception, bool usage, bool errors)
    {
        var elapsed = Stopwatch.GetTimestamp() - start;
        var aborted = exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested;
        var status = aborted ? ClientClosedRequest : StatusCodes.Status500InternalServerError;
        var slot = aggregator.Requests.SlotFor(context.GetEndpoint());
        var method = HttpMethodNames.IndexOf(context.Request.Method);
        if (usage)
        {
            slot.Record(method, status, elapsed, failed: !aborted);
            var headers = context.Request.Headers;
            aggregator.Clients.Record(headers.UserAgent, headers.AcceptLanguage);
        }

        if (errors && !aborted)
        {
            aggregator.Errors.Record(slot.Route, HttpMethodNames.Names[method], status,
                exception.GetType().FullName, ErrorCodes.Of(exception));
        }

        return false;
    }
}

/// <summary>Puts <see cref="HttpUsageMiddleware"/> first in the application's pipeline.</summary>
internal sealed class HttpUsageStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        var services = app.ApplicationServices;
        var aggregator = services.GetRequiredService<HttpUsageAggregator>();
        var sink = services.GetRequiredService<IHttpUsageSink>();
        // A plain delegate rather than UseMiddleware: no reflection, nothing for trimming to keep.
        app.Use(inner => new HttpUsageMiddleware(inner, aggregator, sink).InvokeAsync);
        next(app);
    };
}
