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

    /// <summary>The context. <paramref name="fileExists"/> answers the container marker files (default:
    /// <see cref="File.Exists"/> on Linux, none elsewhere, where no container runtime leaves them).</summary>
    public static EventContext Build(CandorOptions options, Func<string, string?> getVariable, Func<string, bool>? fileExists = null)
    {
        var ciName = CiDetector.Detect(getVariable);
        var cloud = CloudDetector.Detect(getVariable, fileExists ?? MarkerFileExists);
        return new EventContext
        {
            Product = options.ProductName,
            ProductVersion = ProductVersion(options),
            SdkVersion = SdkVersion,
            RuntimeVersion = Environment.Version.ToString(),
            OsFamily = OsFamily(),
            OsVersion = OsVersion(),
            KernelRelease = OperatingSystem.IsLinux() || OperatingSystem.IsFreeBSD() ? Environment.OSVersion.Version.ToString() : null,
            Architecture = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
            Ci = ciName is not null,
            CiName = ciName,
            SessionId = Guid.CreateVersion7(),
            Cloud = cloud.Cloud,
            CloudPlatform = cloud.Platform,
            CloudRegion = cloud.Region,
            Container = cloud.Container,
        };
    }

    private static bool MarkerFileExists(string path) => OperatingSystem.IsLinux() && File.Exists(path);

    /// <summary>The version sent as <c>product_version</c> (also recorded as an install's first version).</summary>
    public static string? ProductVersion(CandorOptions options) => options.ProductVersion ?? EntryAssemblyVersion();

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
