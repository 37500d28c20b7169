using Candor.Protocol;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;

namespace Candor.Collector.Operations;

/// <summary>
/// Makes every answer the endpoints did not write themselves an error body with a machine-readable
/// code, like the ingest endpoint's own: an exception is 500 <c>internal_error</c> with a request id
/// (logged once, with the exception, under that id; its text never reaches the client), a request
/// Kestrel could not read (a malformed chunked body) is its status with <c>bad_request</c>, and an
/// empty error answer (unknown path, wrong method) gets a body for its status.
/// </summary>
internal static partial class ErrorAnswers
{
    /// <summary>A refused admin, analytics or dashboard call: its error body, counted in
    /// <see cref="CollectorMetrics.AdminRequestsRefused"/> (not among refused ingest requests).</summary>
    public static IResult Refuse(int status, string code, string message)
    {
        CollectorMetrics.AdminRequestsRefused.WithLabels(code).Inc();
        return Results.Json(new ErrorResponse { Code = code, Message = message }, ProtocolJsonContext.Default.ErrorResponse, statusCode: status);
    }

    public static IApplicationBuilder UseErrorAnswers(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ErrorAnswers));
        app.Use(async (http, next) =>
        {
            if (http.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: true })
            {
                http.Request.Body = new UnreadableBodyStream(http.Request.Body);
            }

            try
            {
                await next(http);
            }
            catch (Exception) when (http.RequestAborted.IsCancellationRequested)
            {
                // The client went away (a cancelled read, a reset connection): no one to answer.
            }
            catch (BadHttpRequestException ex)
            {
                LogBadRequest(logger, ex.StatusCode, http.TraceIdentifier, ex.Message);
                // Kestrel's messages describe the request (e.g. "Bad chunk size data"), never the server.
                await AnswerAsync(http, ex.StatusCode, ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? ErrorCodes.BodyTooLarge : ErrorCodes.BadRequest,
                    "The request could not be read: " + ex.Message);
            }
#pragma warning disable CA1031 // Whatever was thrown, the client gets the same bodied 500 and the log gets the cause.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogUnhandled(logger, ex, http.Request.Method, http.Request.Path, http.TraceIdentifier);
                await AnswerAsync(http, StatusCodes.Status500InternalServerError, ErrorCodes.InternalError,
                    $"An internal error occurred; quote request id {http.TraceIdentifier}.", http.TraceIdentifier);
            }
        });

        // Answers that ended with an error status and no body: no endpoint for the path (404), the
        // path's endpoints take other methods (405), or an endpoint's bare status.
        app.UseStatusCodePages(context => WriteAsync(context.HttpContext, context.HttpContext.Response.StatusCode, CodeFor(context.HttpContext.Response.StatusCode), MessageFor(context.HttpContext)));
        return app;
    }

    private static async Task AnswerAsync(HttpContext http, int status, string code, string message, string? requestId = null)
    {
        if (http.Response.HasStarted)
        {
            // Part of another answer is already out: ending the connection is the only honest signal.
            http.Abort();
            return;
        }

        http.Response.Clear();
        await WriteAsync(http, status, code, message, requestId);
    }

    private static Task WriteAsync(HttpContext http, int status, string code, string message, string? requestId = null)
    {
        http.Response.StatusCode = status;
        return http.Response.WriteAsJsonAsync(
            new ErrorResponse { Code = code, Message = message, RequestId = requestId }, ProtocolJsonContext.Default.ErrorResponse, contentType: null, http.RequestAborted);
    }

    private static string CodeFor(int status) => status switch
    {
        StatusCodes.Status400BadRequest => ErrorCodes.BadRequest,
        StatusCodes.Status404NotFound => ErrorCodes.NotFound,
        StatusCodes.Status405MethodNotAllowed => ErrorCodes.MethodNotAllowed,
        StatusCodes.Status413PayloadTooLarge => ErrorCodes.BodyTooLarge,
        StatusCodes.Status429TooManyRequests => ErrorCodes.RateLimited,
        StatusCodes.Status500InternalServerError => ErrorCodes.InternalError,
        // Any other status: its reason phrase as a code, e.g. 415 unsupported_media_type.
        _ => ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase
            ? phrase.ToLowerInvariant().Replace(' ', '_').Replace("-", "", StringComparison.Ordinal)
            : status < 500 ? ErrorCodes.BadRequest : ErrorCodes.InternalError,
    };

    private static string MessageFor(HttpContext http) => http.Response.StatusCode switch
    {
        StatusCodes.Status404NotFound => $"Nothing is at {http.Request.Path}.",
        StatusCodes.Status405MethodNotAllowed => $"{http.Request.Path} does not take {http.Request.Method}.",
        var status => ReasonPhrases.GetReasonPhrase(status) + ".",
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception answering {Method} {Path}; request id {RequestId}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, PathString path, string requestId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Unreadable request answered {Status}; request id {RequestId}: {Reason}")]
    private static partial void LogBadRequest(ILogger logger, int status, string requestId, string reason);
}
