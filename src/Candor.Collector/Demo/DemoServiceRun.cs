using Candor.Catalog;
using Candor.Protocol;

namespace Candor.Collector.Demo;

/// <summary>
/// The demo's second product, <c>acme-server</c>: a few installs of a web service, each running as a
/// few processes over the past week, through the real client SDK with the service events of
/// <c>Candor.Hosting</c> (<see cref="Hosting.ServiceEvents"/>): startup, heartbeats, shutdown, request usage
/// per route with its duration histogram, client kinds and languages, and request errors. What the
/// ASP.NET Core middleware would aggregate is simulated here, per heartbeat period.
/// </summary>
internal sealed class DemoServiceRun(int number, DemoReceiver receiver, string homeRoot, DateTimeOffset now, int seed)
{
    public const string Product = "acme-server";

    /// <summary>Installs of the service: enough that its routes clear the default k of 5.</summary>
    public const int Installs = 7;

    /// <summary>The demo's heartbeat period (a real service beats every 15 minutes; six hours keeps the demo small).</summary>
    private static readonly TimeSpan Beat = TimeSpan.FromHours(6);

    public static EventCatalog Catalog { get; } = Hosting.ServiceEvents.AddTo(new EventCatalog());

    private sealed record DemoRoute(string Route, string Method, int PerBeat, double MedianMs, double ErrorRate, string? ErrorCode, int Status);

    private static readonly DemoRoute[] Routes =
    [
        new("/items/{id}", "GET", 400, 12, 0.004, null, 500),
        new("/items", "GET", 150, 35, 0.002, null, 500),
        new("/items", "POST", 60, 45, 0.01, "validation_failed", 422),
        new("/import", "POST", 8, 1800, 0.12, "import_too_large", 413),
        new("/health", "GET", 720, 1, 0, null, 500),
    ];

    private static readonly (string Cloud, string Region, string Platform)[] Clouds =
        [("aws", "eu-west-1", "ecs"), ("aws", "eu-west-1", "ecs"), ("aws", "us-east-1", "eks"), ("azure", "westeurope", "app-service"), ("azure", "westeurope", "app-service"), ("gcp", "europe-west1", "cloud-run"), ("aws", "eu-west-1", "eks")];

    private static readonly (string Client, string Language, int Weight)[] ClientKinds =
        [("chrome", "en", 40), ("firefox", "de", 12), ("curl/8", "none", 18), ("python-requests/2", "none", 20), ("other", "other", 10)];

    private readonly Random _random = new(HashCode.Combine(seed, "server", number));

    public async Task RunAsync()
    {
        var environment = new DemoEnvironment(Path.Combine(homeRoot, "server-" + number.ToString(System.Globalization.CultureInfo.InvariantCulture)), new Dictionary<string, string>());
        var network = DemoAddresses.Pick(_random);
        var address = network.AddressIn(_random);
        // Three process runs over the past week; the last is still running (unless this install's service was retired).
        var start = now.AddDays(-7).AddHours(_random.Next(24));
        for (var run = 0; run < 3; run++)
        {
            var last = run == 2;
            var end = last ? now.AddMinutes(-2 - _random.Next(10)) : start.AddDays(1 + _random.NextDouble());
            await RunProcessAsync(environment, network, address, start, end, stillRunning: last && number != Installs - 1);
            start = end.AddMinutes(1);
        }
    }

    private async Task RunProcessAsync(DemoEnvironment environment, DemoNetwork network, System.Net.IPAddress address, DateTimeOffset start, DateTimeOffset end, bool stillRunning)
    {
        var clock = new DemoClock(start);
        var options = new CandorOptions
        {
            ProductName = Product,
            ProductVersion = "1.2.0",
            Catalog = Catalog,
            Endpoint = receiver.Endpoint,
            WriteKey = receiver.WriteKey,
            DefaultPolicy = ConsentPolicy.OptOut,
            FlushBudget = TimeSpan.FromSeconds(30),
            TransparencyLogSize = 0,
            SpoolMaxFiles = 0,
        };
        await using var client = CandorClient.CreateInEnvironment(options, environment, clock);
        var context = client.Context;
        context.OsFamily = "linux";
        context.OsVersion = "Debian GNU/Linux 12 (bookworm)";
        context.Architecture = "x64";
        context.RuntimeVersion = "10.0.0";
        var (cloud, region, platform) = Clouds[number % Clouds.Length];
        context.Cloud = cloud;
        context.CloudRegion = region;
        context.CloudPlatform = platform;
        context.Container = "docker";
        if (context.InstallId is { } id)
        {
            receiver.Locate(id, network, address);
        }

        var ready = clock.Now;
        client.Track(EventConventions.StartupEvent, new EventProperty(EventConventions.StartupMs, (long)(600 + 900 * _random.NextDouble())));
        while (clock.Now + Beat < end)
        {
            clock.Advance(Beat);
            Usage(client);
            client.Track(EventConventions.HeartbeatEvent,
                new EventProperty(EventConventions.UptimeSeconds, (long)(clock.Now - ready).TotalSeconds),
                new EventProperty(EventConventions.HeartbeatIntervalSeconds, (long)Beat.TotalSeconds));
        }

        clock.Now = end;
        if (stillRunning)
        {
            client.Track(EventConventions.HeartbeatEvent,
                new EventProperty(EventConventions.UptimeSeconds, (long)(clock.Now - ready).TotalSeconds),
                new EventProperty(EventConventions.HeartbeatIntervalSeconds, (long)Beat.TotalSeconds));
            return;
        }

        client.Track(EventConventions.ShutdownEvent,
            new EventProperty(EventConventions.UptimeSeconds, (long)(clock.Now - ready).TotalSeconds),
            new EventProperty(EventConventions.ShutdownReason, _random.NextDouble() < 0.2 ? "failed" : "stopped"));
    }

    // One period's aggregates, as the middleware flushes them: one event per route, per client kind, per error.
    private void Usage(CandorClient client)
    {
        var requests = 0;
        foreach (var route in Routes)
        {
            var count = (int)(route.PerBeat * (0.5 + _random.NextDouble()));
            var buckets = new long[EventConventions.DurationBuckets.Count + 1];
            long sum = 0;
            for (var i = 0; i < count; i++)
            {
                var ms = route.MedianMs * Math.Exp(Gaussian() * 0.7);
                sum += (long)ms;
                var bucket = 0;
                while (bucket < EventConventions.DurationBuckets.Count && ms > EventConventions.DurationBuckets[bucket])
                {
                    bucket++;
                }

                buckets[bucket]++;
            }

            var failed = (int)Math.Round(count * route.ErrorRate * (0.5 + _random.NextDouble()));
            var unhandled = route.Route == "/items/{id}" && _random.NextDouble() < 0.5 ? 1 : 0;
            var properties = new List<EventProperty>
            {
                new(EventConventions.Route, route.Route), new(EventConventions.Method, route.Method), new(EventConventions.StatusClass, "2xx"),
                new(EventConventions.RequestCount, (long)count + unhandled),
                new(EventConventions.RequestErrors, (long)unhandled + (route.Status >= 500 ? failed : 0)),
                new(EventConventions.DurationSumMs, sum),
            };
            properties.AddRange(EventConventions.DurationBuckets.Select((upper, i) => new EventProperty(EventConventions.DurationBucket(upper), buckets[i])));
            properties.Add(new EventProperty(EventConventions.DurationOverflow, buckets[^1]));
            client.Track(EventConventions.HttpRequestsEvent, [.. properties]);
            requests += count;
            if (failed > 0 && route.ErrorCode is { } code)
            {
                HttpError(client, route, route.Status, null, code, failed);
            }

            if (unhandled > 0)
            {
                HttpError(client, route, 500, "System.InvalidOperationException", "InvalidOperationException", unhandled);
            }
        }

        foreach (var (kind, language, weight) in ClientKinds)
        {
            client.Track(EventConventions.HttpClientsEvent,
                new EventProperty(EventConventions.ClientKind, kind), new EventProperty(EventConventions.Language, language),
                new EventProperty(EventConventions.RequestCount, (long)Math.Max(1, requests * weight / 100)));
        }
    }

    private static void HttpError(CandorClient client, DemoRoute route, int status, string? type, string code, int count) =>
        client.Track(EventConventions.HttpErrorEvent,
            new EventProperty(EventConventions.Route, route.Route), new EventProperty(EventConventions.Method, route.Method),
            new EventProperty(EventConventions.Status, (long)status), new EventProperty(EventConventions.ErrorType, type),
            new EventProperty(EventConventions.ErrorCode, code), new EventProperty(EventConventions.RequestCount, (long)count));

    private double Gaussian() =>
        Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());
}
