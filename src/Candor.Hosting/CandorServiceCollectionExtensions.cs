using Candor.Catalog;
using Candor.Hosting;
using Candor.Platform;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Candor to a service's container.</summary>
public static class CandorServiceCollectionExtensions
{
    /// <summary>The name of the <c>IHttpClientFactory</c> client Candor sends through when the container has a
    /// factory (<c>services.AddHttpClient("Candor")</c>, e.g. to set a proxy).</summary>
    public const string HttpClientName = "Candor";

    /// <summary>Adds Candor with options bound from <paramref name="configuration"/> (e.g. the <c>Candor</c>
    /// section), reloaded when it changes, and validated when the host starts.</summary>
    /// <param name="services">The service's container.</param>
    /// <param name="configuration">The configuration section holding <see cref="CandorServiceOptions"/>.</param>
    /// <param name="catalog">The service's own events; the <see cref="ServiceEvents"/> are added to them.</param>
    /// <param name="configure">Settings applied after the configuration (e.g. defaults the code fixes).</param>
    public static IServiceCollection AddCandor(this IServiceCollection services, IConfiguration configuration, EventCatalog? catalog = null, Action<CandorServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<CandorServiceOptions>().Bind(configuration);
        var key = configuration is IConfigurationSection section && section.Path.Length > 0
            ? section.Path + ":" + nameof(CandorServiceOptions.Telemetry)
            : nameof(CandorServiceOptions.Telemetry);
        return services.Add(configure ?? (_ => { }), catalog, key);
    }

    /// <summary>Adds Candor with options set by <paramref name="configure"/>, validated when the host starts.</summary>
    /// <param name="services">The service's container.</param>
    /// <param name="configure">Sets the options.</param>
    /// <param name="catalog">The service's own events; the <see cref="ServiceEvents"/> are added to them.</param>
    public static IServiceCollection AddCandor(this IServiceCollection services, Action<CandorServiceOptions> configure, EventCatalog? catalog = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        return services.Add(configure, catalog, nameof(CandorServiceOptions) + "." + nameof(CandorServiceOptions.Telemetry));
    }

    private static IServiceCollection Add(this IServiceCollection services, Action<CandorServiceOptions> configure, EventCatalog? catalog, string telemetryKey)
    {
        services.AddOptions<CandorServiceOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CandorServiceOptions>, CandorServiceOptionsValidator>());
        services.TryAddSingleton<CandorTelemetry>();
        services.TryAddSingleton(new CandorRegistration(ServiceEvents.AddTo(catalog ?? new EventCatalog()), telemetryKey));
        services.TryAddSingleton(static provider =>
        {
            // From the container when it has them: its clock (tests use a fake one) and its HTTP pipeline.
            var handlers = provider.GetService<IHttpMessageHandlerFactory>();
            return new CandorRuntime(
                provider.GetRequiredService<IOptionsMonitor<CandorServiceOptions>>(),
                provider.GetRequiredService<CandorTelemetry>(),
                provider.GetRequiredService<CandorRegistration>(),
                provider.GetRequiredService<ILogger<CandorTelemetry>>(),
                provider.GetService<TimeProvider>() ?? TimeProvider.System,
                provider.GetService<ICandorEnvironment>() ?? SystemEnvironment.Instance,
                handlers is null ? null : () => handlers.CreateHandler(HttpClientName));
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CandorLifecycleService>());
        return services;
    }
}
