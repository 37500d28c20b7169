namespace Candor.Collector.Demo;

/// <summary>Placeholder for <c>serve --demo</c>: realistic traffic through the client SDK (not built yet).</summary>
internal static class DemoTraffic
{
    public static void RunWhenStarted(WebApplication app) =>
        app.Logger.LogWarning("--demo is not implemented yet: the store is left as it is.");
}
