using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Candor.Collector.Operations;
using Candor.Protocol;

namespace Candor.Collector.Security;

/// <summary>
/// The collector's rate limits, on ASP.NET Core's rate limiting: ingest requests per write key and
/// client address (a token bucket, <see cref="RateLimitOptions.IngestRequestsPerSecond"/>), forget and
/// access requests per address (fixed one-minute windows, <see cref="RateLimitOptions.ForgetRequestsPerMinute"/>,
/// <see cref="RateLimitOptions.AccessRequestsPerMinute"/>), and failed admin tokens per address
/// (<see cref="AdminFailureLimiter"/>). All answer 429 <c>rate_limited</c> with <c>Retry-After</c> and
/// count in <c>candor_rate_limited_total{scope}</c>.
/// </summary>
internal static class RateLimits
{
    public const string IngestScope = "ingest";
    public const string AdminScope = "admin";
    public const string ForgetScope = "forget";
    public const string AccessScope = "access";

    private const string IngestPolicy = "candor-ingest";
    private const string ForgetPolicy = "candor-forget";
    private const string AccessPolicy = "candor-access";

    public static IServiceCollection AddCollectorRateLimits(this IServiceCollection services, RateLimitOptions limits)
    {
        services.AddSingleton<AdminFailureLimiter>();
        services.AddRateLimiter(rateLimiter =>
        {
            rateLimiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            rateLimiter.OnRejected = (context, _) =>
                new ValueTask(Answer(context.HttpContext, RetryAfterOf(context.Lease), ScopeOf(context.HttpContext)).ExecuteAsync(context.HttpContext));
            rateLimiter.AddPolicy(IngestPolicy, http => IngestPartition(http, limits));
            rateLimiter.AddPolicy(ForgetPolicy, http => AddressPartition(http, limits.ForgetRequestsPerMinute));
            rateLimiter.AddPolicy(AccessPolicy, http => AddressPartition(http, limits.AccessRequestsPerMinute));
        });
        return services;
    }

    /// <summary>Applies the ingest limit to an endpoint, unless it is turned off (then the endpoint
    /// pays nothing for it: the load generator drives one key from one address).</summary>
    public static TBuilder RequireIngestRateLimit<TBuilder>(this TBuilder builder, RateLimitOptions limits)
        where TBuilder : IEndpointConventionBuilder =>
        limits.IngestRequestsPerSecond > 0 ? builder.RequireRateLimiting(IngestPolicy) : builder;

    /// <summary>Applies the forget (<see cref="ForgetScope"/>) or access (<see cref="AccessScope"/>)
    /// limit per client address to an endpoint, unless it is turned off.</summary>
    public static TBuilder RequireDataRightsRateLimit<TBuilder>(this TBuilder builder, string scope, RateLimitOptions limits)
        where TBuilder : IEndpointConventionBuilder
    {
        var (policy, perMinute) = scope == ForgetScope
            ? (ForgetPolicy, limits.ForgetRequestsPerMinute)
            : (AccessPolicy, limits.AccessRequestsPerMinute);
        return perMinute > 0 ? builder.RequireRateLimiting(policy) : builder;
    }

    /// <summary>The 429 answer: <c>Retry-After</c> in whole seconds (at least 1) and the error body.</summary>
    public static IResult Answer(HttpContext http, TimeSpan retryAfter, string scope)
    {
        CollectorMetrics.RateLimited.WithLabels(scope).Inc();
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var message = scope switch
        {
            AdminScope => $"Too many failed admin tokens from this address; retry after {seconds} s.",
            ForgetScope or AccessScope => $"Too many {scope} requests from this address; retry after {seconds} s.",
            _ => $"Too many ingest requests from this address with this write key; retry after {seconds} s.",
        };
        if (scope == ForgetScope)
        {
            CollectorMetrics.ForgetRequests.WithLabels(CollectorMetrics.RefusedOutcome).Inc();
        }
        else if (scope == AccessScope)
        {
            CollectorMetrics.AccessRequests.WithLabels(CollectorMetrics.RefusedOutcome).Inc();
        }

        return Results.Json(new ErrorResponse { Code = ErrorCodes.RateLimited, Message = message },
            ProtocolJsonContext.Default.ErrorResponse, statusCode: StatusCodes.Status429TooManyRequests);
    }

    public static TimeSpan RetryAfterOf(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);

    /// <summary>Which limit refused the request, from the policy its endpoint requires.</summary>
    private static string ScopeOf(HttpContext http) =>
        http.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.RateLimiting.EnableRateLimitingAttribute>()?.PolicyName switch
        {
            ForgetPolicy => ForgetScope,
            AccessPolicy => AccessScope,
            _ => IngestScope,
        };

    /// <summary>A fixed one-minute window per client address (held in memory only, never logged).</summary>
    private static RateLimitPartition<IPAddress> AddressPartition(HttpContext http, int perMinute) =>
        RateLimitPartition.GetFixedWindowLimiter(http.Connection.RemoteIpAddress ?? IPAddress.None, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = perMinute,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        });

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
