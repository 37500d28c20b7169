using System.Text.Json.Serialization;

namespace Candor.Collector.Analytics;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(Summary))]
[JsonSerializable(typeof(IReadOnlyList<SeriesPoint>))]
[JsonSerializable(typeof(IReadOnlyList<BreakdownRow>))]
[JsonSerializable(typeof(IReadOnlyList<SeriesBreakdownPoint>))]
[JsonSerializable(typeof(RetentionFigures))]
[JsonSerializable(typeof(IReadOnlyList<InstallActivity>))]
[JsonSerializable(typeof(IReadOnlyList<CommandRow>))]
[JsonSerializable(typeof(NumericSummary))]
[JsonSerializable(typeof(LiveInstances))]
[JsonSerializable(typeof(ServicesOverview))]
[JsonSerializable(typeof(ReaderAnswer))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonNode))]
internal sealed partial class AnalyticsJsonContext : JsonSerializerContext;
