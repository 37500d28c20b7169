namespace Candor.Protocol;

/// <summary>The collector's HTTP paths and headers that clients use.</summary>
public static class ProtocolConstants
{
    /// <summary>The ingest path.</summary>
    public const string EventsPath = "/v1/events";

    /// <summary>The header that carries the product's write key.</summary>
    public const string WriteKeyHeader = "X-Candor-Write-Key";
}
