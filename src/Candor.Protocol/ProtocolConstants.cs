namespace Candor.Protocol;

/// <summary>The collector's HTTP paths and headers that clients use.</summary>
public static class ProtocolConstants
{
    /// <summary>The ingest path.</summary>
    public const string EventsPath = "/v1/events";

    /// <summary>Right to erasure: <c>POST</c> a <see cref="InstallRequest"/> with the write key; the
    /// collector deletes everything it holds for the install and refuses its later events
    /// (<see cref="ForgetResponse"/>).</summary>
    public const string ForgetPath = "/v1/forget";

    /// <summary>Right of access: <c>POST</c> a <see cref="InstallRequest"/> with the write key; the
    /// collector answers with what it holds for the install, as JSON.</summary>
    public const string AccessPath = "/v1/access";

    /// <summary>The header that carries the product's write key.</summary>
    public const string WriteKeyHeader = "X-Candor-Write-Key";
}
