using System.Text.Json.Serialization;
using Candor.Collector.Storage;
using Candor.Protocol;

namespace Candor.Collector;

/// <summary>Source-generated JSON for the collector's own answers and stored JSON columns.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(IReadOnlyList<StoredEvent>))]
[JsonSerializable(typeof(IReadOnlyList<QuarantineRecord>))]
[JsonSerializable(typeof(QuarantineSummary))]
[JsonSerializable(typeof(IDictionary<string, PropertyValue>))]
[JsonSerializable(typeof(Dictionary<string, PropertyValue>))]
[JsonSerializable(typeof(HealthResponse))]
internal sealed partial class CollectorJsonContext : JsonSerializerContext;

internal sealed record HealthResponse(string Status);
