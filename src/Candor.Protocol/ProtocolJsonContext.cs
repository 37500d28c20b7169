using System.Text.Json.Serialization;

namespace Candor.Protocol;

/// <summary>
/// Source-generated (trim- and AOT-safe) JSON serialization for every wire contract.
/// Property names are snake_case.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    MaxDepth = 16)]
[JsonSerializable(typeof(EventBatch))]
[JsonSerializable(typeof(IngestResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(InstallRequest))]
[JsonSerializable(typeof(ForgetResponse))]
public sealed partial class ProtocolJsonContext : JsonSerializerContext;
