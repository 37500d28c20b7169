using Candor.AspNetCore;
using Candor.Hosting;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Candor's request usage to an ASP.NET Core service.</summary>
public static class CandorHttpUsageServiceCollectionExtensions
{
    /// <summary>
    /// Records request usage through the service's Candor (<c>AddCandor</c>), aggregated in process and
    /// recorded every <see cref="CandorServiceOptions.UsageInterval"/> and when the host stops: per route
    /// template (never the path), method and status class, the count, server errors and a duration
    /// histogram (<c>http_requests</c>); per client kind and language, the count (<c>http_clients</c>);
    /// per route, status and error, failed requests with the exception type and a stable code, never a
    /// message (<c>http_error</c>). Nothing else is read from a request. A middleware put first in the
    /// pipeline does the counting; <see cref="CandorServiceOptions.HttpUsage"/> and
    /// <see cref="CandorServiceOptions.Errors"/> turn its parts off. Call it after <c>AddCandor</c>; calling
    /// it again changes nothing.
    /// </summary>
    /// <param name="services">The service's container.</param>
    public static IServiceCollection AddCandorHttpUsage(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(HttpUsageAggregator)))
        {
            return services;
        }

        services.AddOptions();
        services.AddSingleton<HttpUsageAggregator>();
        services.TryAddSingleton<IHttpUsageSink>(sp => new CandorTelemetrySink(sp.GetService<CandorTelemetry>()));

        // First among the startup filters, so the middleware is the outermost: it times the whole pipeline.
        services.Insert(0, ServiceDescriptor.Transient<IStartupFilter, HttpUsageStartupFilter>());

        // First among the problem details writers, so it sees every problem before the one that writes it.
        services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, ProblemCodeObserver>());
        services.AddSingleton<IPostConfigureOptions<ProblemDetailsOptions>, ProblemCodeCustomizer>();

        services.AddSingleton<IHostedService>(sp => new HttpUsageFlushService(
            sp.GetRequiredService<HttpUsageAggregator>(),
            sp.GetRequiredService<IHttpUsageSink>(),
            sp.GetRequiredService<IOptionsMonitor<CandorServiceOptions>>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System));
        return services;
    }
}
