using System.Reflection;
using System.Runtime.InteropServices;
using Candor.Protocol;

namespace Candor.Context;

/// <summary>Builds the per-process context once. Never reads host or user names.</summary>
internal static class ContextBuilder
{
    public static readonly string SdkVersion =
        typeof(ContextBuilder).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    public static EventContext Build(CandorOptions options, Func<string, string?> getVariable)
    {
        var ciName = CiDetector.Detect(getVariable);
        return new EventContext
        {
            Product = options.ProductName,
            ProductVersion = options.ProductVersion ?? EntryAssemblyVersion(),
            SdkVersion = SdkVersion,
            RuntimeVersion = Environment.Version.ToString(),
            OsFamily = OsFamily(),
            OsVersion = OsVersion(),
            KernelRelease = OperatingSystem.IsLinux() || OperatingSystem.IsFreeBSD() ? Environment.OSVersion.Version.ToString() : null,
            Architecture = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
            Ci = ciName is not null,
            CiName = ciName,
            SessionId = Guid.CreateVersion7(),
        };
    }

    private static string? EntryAssemblyVersion() =>
        Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0];

    internal static string OsFamily() =>
        OperatingSystem.IsLinux() ? "linux"
        : OperatingSystem.IsWindows() ? "windows"
        : OperatingSystem.IsMacOS() ? "macos"
        : OperatingSystem.IsFreeBSD() ? "freebsd"
        : "other";

    private static string OsVersion()
    {
        // OSDescription is a distribution name and version ("Debian GNU/Linux 12 (bookworm)") or a
        // Windows/Darwin version string; it never holds the host name. Bounded in case of odd values.
        var description = RuntimeInformation.OSDescription;
        return description.Length <= 100 ? description : description[..100];
    }
}
