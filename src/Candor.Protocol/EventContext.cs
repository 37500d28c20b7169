using System.Text.Json.Serialization;

namespace Candor.Protocol;

/// <summary>
/// Facts about the process that produced a batch, built once per process by the client.
/// Nothing here identifies a person: the install id is a random UUID, the user id is set only
/// at the <c>identified</c> consent level, and host and user names are never sent.
/// </summary>
public sealed class EventContext
{
    /// <summary>The product (tool) name, e.g. <c>acme</c>.</summary>
    public string Product { get; set; } = "";

    /// <summary>The product version running now.</summary>
    public string? ProductVersion { get; set; }

    /// <summary>The first product version this install ran.</summary>
    public string? InitialVersion { get; set; }

    /// <summary>The Candor SDK version.</summary>
    public string? SdkVersion { get; set; }

    /// <summary>The .NET runtime version, e.g. <c>10.0.0</c>.</summary>
    public string? RuntimeVersion { get; set; }

    /// <summary>The OS family: <c>linux</c>, <c>windows</c>, <c>macos</c>, <c>freebsd</c> or <c>other</c>.</summary>
    public string? OsFamily { get; set; }

    /// <summary>The OS version.</summary>
    public string? OsVersion { get; set; }

    /// <summary>The kernel release, where the OS has one distinct from its version.</summary>
    public string? KernelRelease { get; set; }

    /// <summary>The process architecture, e.g. <c>x64</c>, <c>arm64</c>.</summary>
    public string? Architecture { get; set; }

    /// <summary>Whether the process runs under continuous integration.</summary>
    public bool Ci { get; set; }

    /// <summary>Which CI system was detected, e.g. <c>github-actions</c>.</summary>
    public string? CiName { get; set; }

    /// <summary>A random id for this process run.</summary>
    public Guid SessionId { get; set; }

    /// <summary>The random install id (consent <c>anonymous</c> and above).</summary>
    public Guid? InstallId { get; set; }

    /// <summary>The pseudonymous project id, a hash of the project UUID and the product name.</summary>
    public string? ProjectId { get; set; }

    /// <summary>The id the user chose to provide (consent <c>identified</c> only).</summary>
    public string? UserId { get; set; }

    /// <summary>The install id is this process's own, made because no state directory was writable
    /// (e.g. a read-only container): it is not kept, so each restart counts as a new instance.
    /// Sent only when true.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool InstallIdPerProcess { get; set; }

    /// <summary>The cloud provider the process runs in, from environment variables and files only:
    /// <c>aws</c>, <c>azure</c>, <c>gcp</c>, … or none.</summary>
    public string? Cloud { get; set; }

    /// <summary>The cloud service running the process, e.g. <c>lambda</c>, <c>ecs</c>, <c>app_service</c>,
    /// <c>cloud_run</c>, or none.</summary>
    public string? CloudPlatform { get; set; }

    /// <summary>The cloud region, e.g. <c>eu-west-1</c>, or none.</summary>
    public string? CloudRegion { get; set; }

    /// <summary>The container runtime around the process: <c>kubernetes</c>, <c>docker</c>, <c>podman</c>,
    /// <c>container</c> (another), or none.</summary>
    public string? Container { get; set; }
}
