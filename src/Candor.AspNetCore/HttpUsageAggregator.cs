using Candor.Hosting;
using Candor.Protocol;

namespace Candor.AspNetCore;

/// <summary>
/// The request usage of the current interval (a singleton): routes, client kinds and errors. The
/// middleware counts into it; <see cref="Flush"/> records one event per key and starts the next interval.
/// </summary>
internal sealed class HttpUsageAggregator(
    RequestAggregator requests, ClientAggregator clients, ErrorAggregator errors)
{
    private static readonly string[] StatusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"];

    private static readonly string[] BucketProperties =
        [.. EventConventions.DurationBuckets.Select(EventConventions.DurationBucket), EventConventions.DurationOverflow];

    private readonly Lock _flushing = new();

    public HttpUsageAggregator()
        : this(new RequestAggregator(), new ClientAggregator(), new ErrorAggregator())
    {
    }

    public RequestAggregator Requests { get; } = requests;

    public ClientAggregator Clients { get; } = clients;

    public ErrorAggregator Errors { get; } = errors;

    /// <summary>Records the interval through <paramref name="sink"/>: one <c>http_requests</c> per route,
    /// method and status class, one <c>http_clients</c> per client kind and language, one
    /// <c>http_error</c> per error key; nothing for an interval without requests. What a part that is
    /// off now counted is dropped.</summary>
    public void Flush(IHttpUsageSink sink)
    {
        lock (_flushing)
        {
            var usage = sink.IsEnabled(TelemetryPart.HttpUsage);
            var failures = sink.IsEnabled(TelemetryPart.Errors);
            var properties = new EventProperty[6 + BucketProperties.Length];

            Requests.Drain(total =>
            {
                if (!usage)
                {
                    return;
                }

                properties[0] = new(EventConventions.Route, total.Route);
                properties[1] = new(EventConventions.Method, total.Method);
                properties[2] = new(EventConventions.StatusClass, StatusClasses[total.StatusClass - 1]);
                properties[3] = new(EventConventions.RequestCount, total.Count);
                properties[4] = new(EventConventions.RequestErrors, total.Errors);
                properties[5] = new(EventConventions.DurationSumMs, total.DurationSumMs);
                for (var i = 0; i < BucketProperties.Length; i++)
                {
                    properties[6 + i] = new(BucketProperties[i], total.Buckets[i]);
                }

                sink.Track(EventConventions.HttpRequestsEvent, properties);
            });

            Clients.Drain((client, language, count) =>
            {
                if (usage)
                {
                    sink.Track(EventConventions.HttpClientsEvent,
                        new(EventConventions.ClientKind, client),
                        new(EventConventions.Language, language),
                        new(EventConventions.RequestCount, count));
                }
            });

            Errors.Drain((key, count) =>
            {
                if (failures)
                {
                    sink.Track(EventConventions.HttpErrorEvent,
                        new(EventConventions.Route, key.Route),
                        new(EventConventions.Method, key.Method),
                        new(EventConventions.Status, key.Status),
                        new(EventConventions.ErrorType, key.ErrorType),
                        new(EventConventions.ErrorCode, key.ErrorCode),
                        new(EventConventions.RequestCount, count));
                }
            });
        }
    }
}
