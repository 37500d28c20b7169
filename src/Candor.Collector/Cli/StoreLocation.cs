namespace Candor.Collector.Cli;

/// <summary>
/// Finds the DuckDB file the offline commands (<c>report</c>, <c>export</c>) read: <c>--database</c>,
/// else the collector's own configuration (appsettings.json, <c>Candor__*</c> environment variables).
/// </summary>
internal static class StoreLocation
{
    public static (CollectorOptions Collector, Analytics.AnalyticsOptions Analytics) Configuration()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
        return (
            configuration.GetSection(CollectorOptions.Section).Get<CollectorOptions>() ?? new CollectorOptions(),
            configuration.GetSection(Analytics.AnalyticsOptions.Section).Get<Analytics.AnalyticsOptions>() ?? new Analytics.AnalyticsOptions());
    }

    public static string? Resolve(string? database, TextWriter error)
    {
        var path = database ?? Configuration().Collector.ResolvedDatabasePath;
        if (File.Exists(path))
        {
            return path;
        }

        error.WriteLine($"No Candor database at '{Path.GetFullPath(path)}'. Pass --database, or run from the collector's directory.");
        return null;
    }
}
