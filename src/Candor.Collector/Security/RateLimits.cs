using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Candor.Collector.Operations;
using Candor.Protocol;

namespace Candor.Collector.Security;

/// <summary>
/// The collector's rate limits, on ASP.NET Core's rate limiting: ingest requests per write key and
/// client address (a token bucket, <see cref="RateLimitOptions.IngestRequestsPerSecond"/>), and failed
/// admin tokens per address (<see cref="AdminFailureLimiter"/>). Both answer 429 <c>rate_limited</c>
/// with <c>Retry-After</c> and count in <c>candor_rate_limited_total{scope}</c>.
/// </summary>
internal static class RateLimits
{
    public const string IngestScope = "ingest";
    public const string AdminScope = "admin";

    private const string IngestPolicy = "candor-ingest";

    public static IServiceCollection AddCollectorRateLimits(this IServiceCollection services, RateLimitOptions limits)
    {
        services.AddSingleton<AdminFailureLimiter>();
        services.AddRateLimiter(rateLimiter =>
        {
            rateLimiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            rateLimiter.OnRejected = (context, _) =>
                new ValueTask(Answer(context.HttpContext, RetryAfterOf(context.Lease), IngestScope).ExecuteAsync(context.HttpContext));
            rateLimiter.AddPolicy(IngestPolicy, http => IngestPartition(http, limits));
        });
        return services;
    }

    /// <summary>Applies the ingest limit to an endpoint, unless it is turned off (then the endpoint
    /// pays nothing for it: the load generator drives one key from one address).</summary>
    public static TBuilder RequireIngestRateLimit<TBuilder>(this TBuilder builder, RateLimitOptions limits)
        where TBuilder : IEndpointConventionBuilder =>
        limits.IngestRequestsPerSecond > 0 ? builder.RequireRateLimiting(IngestPolicy) : builder;

    /// <summary>The 429 answer: <c>Retry-After</c> in whole seconds (at least 1) and the error body.</summary>
    public static IResult Answer(HttpContext http, TimeSpan retryAfter, string scope)
    {
        CollectorMetrics.RateLimited.WithLabels(scope).Inc();
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var message = scope == AdminScope
            ? $"Too many failed admin tokens from this address; retry after {seconds} s."
            : $"Too many ingest requests from this address with this write key; retry after {seconds} s.";
        return Results.Json(new ErrorResponse { Code = ErrorCodes.RateLimited, Message = message },
            ProtocolJsonContext.Default.ErrorResponse, statusCode: StatusCodes.Status429TooManyRequests);
    }

    public static TimeSpan RetryAfterOf(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);

    private static RateLimitPartition<IngestClient> IngestPartition(HttpContext http, RateLimitOptions limits)
    {
        var key = http.Request.Headers[ProtocolConstants.WriteKeyHeader].ToString();
        // Unknown and missing keys share their address's bucket: made-up keys cannot each get a
        // bucket of their own, nor grow the table of buckets without bound.
        var known = key.Length > 0 && http.RequestServices.GetRequiredService<Credentials>().IsKnownWriteKey(key);
        var client = new IngestClient(known ? key : null, http.Connection.RemoteIpAddress);
        return RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = limits.IngestBurst,
            TokensPerPeriod = limits.IngestRequestsPerSecond,
            // The partitioned limiter refills its buckets continuously (every 100 ms) at this rate.
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            // Answer at once rather than hold requests (and their bodies) in a queue.
            QueueLimit = 0,
        });
    }

    /// <summary>A token bucket's owner. Held in memory only: neither part is logged or exported.</summary>
    private readonly record struct IngestClient(string? WriteKey, IPAddress? Address)
    {
        public override string ToString() => nameof(IngestClient);
    }
}
