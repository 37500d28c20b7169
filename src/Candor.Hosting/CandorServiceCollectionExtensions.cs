using Candor.Catalog;
using Candor.Hosting;
using Microsoft.Extensions.Configuration;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Candor to a service's container.</summary>
public static class CandorServiceCollectionExtensions
{
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
        return services.AddCandor(configure ?? (_ => { }), catalog);
    }

    /// <summary>Adds Candor with options set by <paramref name="configure"/>, validated when the host starts.</summary>
    /// <param name="services">The service's container.</param>
    /// <param name="configure">Sets the options.</param>
    /// <param name="catalog">The service's own events; the <see cref="ServiceEvents"/> are added to them.</param>
    public static IServiceCollection AddCandor(this IServiceCollection services, Action<CandorServiceOptions> configure, EventCatalog? catalog = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<CandorServiceOptions>().Configure(configure);
        services.AddSingleton<CandorTelemetry>();
        _ = ServiceEvents.AddTo(catalog ?? new EventCatalog());
        return services;
    }
}
