using System.Text.Json.Serialization;
using Candor.Protocol;

namespace Candor.Delivery;

/// <summary>Source-generated JSON for what the client writes locally (debug output and the
/// transparency log), in the wire format's snake_case so every copy of an event reads the same.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(TelemetryEvent))]
internal sealed partial class CandorJsonContext : JsonSerializerContext;
