using System.Text.Json;

namespace Candor.Protocol.Tests;

public sealed class EventBatchSerializationTests
{
    [Fact]
    public void ABatchRoundTripsWithSnakeCaseNamesAndTypedProperties()
    {
        var id = Guid.CreateVersion7();
        var batch = new EventBatch
        {
            SentAt = new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero),
            Context = new EventContext { Product = "acme", ProductVersion = "1.4.0", SessionId = Guid.CreateVersion7(), Ci = true, CiName = "gitlab" },
            Events =
            [
                new TelemetryEvent
                {
                    Id = id,
                    Name = "command",
                    Version = "1-0-0",
                    Time = new DateTimeOffset(2026, 11, 23, 7, 59, 59, TimeSpan.Zero),
                    Properties = new Dictionary<string, PropertyValue>
                    {
                        ["command"] = "run",
                        ["rows"] = 1_000_000_000_000L,
                        ["ratio"] = 0.25,
                        ["success"] = true,
                        ["note"] = PropertyValue.Null,
                    },
                },
            ],
        };

        var json = JsonSerializer.Serialize(batch, ProtocolJsonContext.Default.EventBatch);
        var back = JsonSerializer.Deserialize(json, ProtocolJsonContext.Default.EventBatch)!;

        Assert.Contains("\"sent_at\":", json, StringComparison.Ordinal);
        Assert.Contains("\"product_version\":\"1.4.0\"", json, StringComparison.Ordinal);
        Assert.Contains("\"ci_name\":\"gitlab\"", json, StringComparison.Ordinal);
        Assert.DoesNotContain("install_id", json, StringComparison.Ordinal);
        var e = Assert.Single(back.Events);
        Assert.Equal(id, e.Id);
        Assert.Equal("1-0-0", e.Version);
        Assert.Equal(PropertyKind.String, e.Properties!["command"].Kind);
        Assert.Equal(1_000_000_000_000L, e.Properties["rows"].AsInteger);
        Assert.Equal(PropertyKind.Number, e.Properties["ratio"].Kind);
        Assert.Equal(0.25, e.Properties["ratio"].AsNumber);
        Assert.True(e.Properties["success"].AsBoolean);
        Assert.Equal(PropertyKind.Null, e.Properties["note"].Kind);
        Assert.Equal(batch.SentAt, back.SentAt);
    }

    [Theory]
    [InlineData("""{"nested":{"a":1}}""")]
    [InlineData("""{"list":[1,2]}""")]
    public void NestedPropertyValuesAreRefused(string properties)
    {
        var json = $$"""{"sent_at":"2026-11-23T08:00:00Z","context":{"product":"acme"},"events":[{"id":"01a20789-752e-7630-a95b-a94408c398b8","name":"x","time":"2026-11-23T08:00:00Z","properties":{{properties}}}]}""";

        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json, ProtocolJsonContext.Default.EventBatch));
    }

    [Fact]
    public void PropertyValuesCompareByKindAndValue()
    {
        Assert.Equal(PropertyValue.FromInteger(3), (PropertyValue)3);
        Assert.NotEqual(PropertyValue.FromInteger(1), PropertyValue.FromBoolean(true));
        Assert.NotEqual(PropertyValue.FromString("1"), PropertyValue.FromInteger(1));
        Assert.Equal("2.5", PropertyValue.FromNumber(2.5).ToString());
    }
}
