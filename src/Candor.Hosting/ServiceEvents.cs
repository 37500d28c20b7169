using Candor.Catalog;
using Candor.Protocol;

namespace Candor.Hosting;

/// <summary>
/// The events a service records by convention (<see cref="EventConventions"/>): lifecycle, request usage
/// and request errors. <c>services.AddCandor(...)</c>
/// adds them to the service's catalog; a service adds them to its own catalog to export their schemas.
/// Route templates, methods, client kinds and languages are not redacted (a template such as
/// <c>/items/{id}</c> would otherwise read as a path): Candor.AspNetCore fills them from the endpoint's
/// template and from tokens it sanitizes itself, never from a request's path or free text.
/// </summary>
public static class ServiceEvents
{
    /// <summary>Adds the service events to <paramref name="catalog"/> (those it already declares are kept).</summary>
    public static EventCatalog AddTo(EventCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        foreach (var definition in Definitions())
        {
            if (!catalog.TryGet(definition.Name, out _))
            {
                catalog.Add(definition);
            }
        }

        return catalog;
    }

    private static IEnumerable<EventDefinition> Definitions()
    {
        yield return new EventDefinition(EventConventions.InstallEvent, "The service ran for the first time with this install id.");
        yield return new EventDefinition(EventConventions.StartupEvent, "The service is ready.")
            .Integer(EventConventions.StartupMs, "Milliseconds from process start until ready.", minimum: 0, required: true);
        yield return new EventDefinition(EventConventions.HeartbeatEvent, "The service is running.")
            .Integer(EventConventions.UptimeSeconds, "Seconds since the service became ready.", minimum: 0, required: true)
            .Integer(EventConventions.HeartbeatIntervalSeconds, "Seconds until the next heartbeat.", minimum: 1, required: true);
        yield return new EventDefinition(EventConventions.ShutdownEvent, "The service is stopping.")
            .Integer(EventConventions.UptimeSeconds, "Seconds since the service became ready.", minimum: 0, required: true)
            .Enum(EventConventions.ShutdownReason, "Why it stopped.", ["stopped", "failed"], required: true);

        var requests = new EventDefinition(EventConventions.HttpRequestsEvent, "One route's requests over one interval (never the path).")
            .VerbatimString(EventConventions.Route, "The route template, e.g. /items/{id}.", maxLength: 200, required: true)
            .VerbatimString(EventConventions.Method, "The HTTP method.", maxLength: 16, required: true)
            .Enum(EventConventions.StatusClass, "The status class.", ["1xx", "2xx", "3xx", "4xx", "5xx"], required: true)
            .Integer(EventConventions.RequestCount, "Requests counted.", minimum: 1, required: true)
            .Integer(EventConventions.RequestErrors, "Of which failed on the server (5xx or an unhandled exception).", minimum: 0, required: true)
            .Integer(EventConventions.DurationSumMs, "The sum of their durations in milliseconds.", minimum: 0, required: true);
        foreach (var upper in EventConventions.DurationBuckets)
        {
            requests.Integer(EventConventions.DurationBucket(upper), $"Requests that took at most {upper} ms (and more than the previous bound).", minimum: 0);
        }

        yield return requests.Integer(EventConventions.DurationOverflow, "Requests that took more than 10 s.", minimum: 0);

        yield return new EventDefinition(EventConventions.HttpClientsEvent, "Requests of one client kind and language over one interval.")
            .VerbatimString(EventConventions.ClientKind, "The first User-Agent product with its major version, or a browser family.", maxLength: 64, required: true)
            .VerbatimString(EventConventions.Language, "The primary subtag of Accept-Language.", maxLength: 16, required: true)
            .Integer(EventConventions.RequestCount, "Requests counted.", minimum: 1, required: true);

        yield return new EventDefinition(EventConventions.HttpErrorEvent, "Failed requests of one route, status and error over one interval.")
            .VerbatimString(EventConventions.Route, "The route template.", maxLength: 200, required: true)
            .VerbatimString(EventConventions.Method, "The HTTP method.", maxLength: 16, required: true)
            .Integer(EventConventions.Status, "The status code.", minimum: 100, maximum: 599, required: true)
            .String(EventConventions.ErrorType, "The exception's type name, for unhandled exceptions.", maxLength: 200)
            .String(EventConventions.ErrorCode, "A stable error code, never a message.", maxLength: 100, required: true)
            .Integer(EventConventions.RequestCount, "Requests counted.", minimum: 1, required: true);

        yield return EventDefinition.Error();
    }
}
