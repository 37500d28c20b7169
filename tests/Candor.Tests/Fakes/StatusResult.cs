using Microsoft.AspNetCore.Http;

namespace Candor.Tests.Fakes;

/// <summary>An answer with a status code and, optionally, a <c>Retry-After</c> header in seconds.</summary>
internal sealed class StatusResult(int status, int? retryAfterSeconds = null) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = status;
        if (retryAfterSeconds is { } seconds)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return Task.CompletedTask;
    }
}
