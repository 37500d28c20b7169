using System.Text.Json;
using System.Text.Json.Nodes;
using Candor.Delivery;
using Candor.Protocol;

namespace Candor.Tests.Delivery;

public sealed class WireJsonTests
{
    [Fact]
    public void TheHandWrittenBatchIsWhatTheProtocolSerializerWrites()
    {
        var batch = new EventBatch
        {
            SentAt = new DateTimeOffset(2026, 11, 23, 8, 0, 0, 123, TimeSpan.Zero),
            Context = new EventContext
            {
                Product = "acme", ProductVersion = "1.4.0", SdkVersion = "0.1.0", RuntimeVersion = "10.0.0", OsFamily = "linux",
                OsVersion = "Debian", KernelRelease = "6.1", Architecture = "x64", Ci = true, CiName = "github-actions",
                SessionId = Guid.CreateVersion7(), InstallId = Guid.CreateVersion7(), ProjectId = "abc", UserId = "u1",
                InstallIdPerProcess = true, Cloud = "aws", CloudPlatform = "lambda", CloudRegion = "eu-west-1", Container = "docker",
            },
            Events =
            [
                new TelemetryEvent
                {
                    Id = Guid.CreateVersion7(), Name = "command", Version = "1-0-0", Time = DateTimeOffset.UtcNow,
                    Properties = new Dictionary<string, PropertyValue> { ["s"] = "<path> é", ["i"] = -3, ["n"] = 0.25, ["b"] = true },
                },
                new TelemetryEvent { Id = Guid.CreateVersion7(), Name = "tick", Time = DateTimeOffset.UtcNow },
            ],
        };
        var handWritten = new MemoryStream();

        WireJson.WriteBatch(handWritten, batch);

        var expected = JsonNode.Parse(JsonSerializer.Serialize(batch, ProtocolJsonContext.Default.EventBatch));
        Assert.True(JsonNode.DeepEquals(expected, JsonNode.Parse(handWritten.ToArray())), System.Text.Encoding.UTF8.GetString(handWritten.ToArray()));
        var roundTripped = JsonSerializer.Deserialize(handWritten.ToArray(), ProtocolJsonContext.Default.EventBatch)!;
        Assert.Equal(batch.Events[0].Properties!["n"], roundTripped.Events[0].Properties!["n"]);
    }

    [Fact]
    public void TheNewContextFieldsAreLeftOutWhenUnsetAndReadBackWhenSet()
    {
        var context = new EventContext { Product = "acme", SessionId = Guid.CreateVersion7() };
        var plain = Write(context);
        var detected = new EventContext
        {
            Product = "acme", SessionId = Guid.CreateVersion7(), InstallIdPerProcess = true,
            Cloud = "gcp", CloudPlatform = "cloud_run", CloudRegion = "europe-west1", Container = "kubernetes",
        };

        var readBack = WireJson.ReadBatch(new MemoryStream(Write(detected))).Context;

        var text = System.Text.Encoding.UTF8.GetString(plain);
        Assert.DoesNotContain("install_id_per_process", text, StringComparison.Ordinal);
        Assert.DoesNotContain("cloud", text, StringComparison.Ordinal);
        Assert.DoesNotContain("container", text, StringComparison.Ordinal);
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse(JsonSerializer.Serialize(context, ProtocolJsonContext.Default.EventContext)), JsonNode.Parse(plain)!["context"]));
        Assert.Equal(
            (true, "gcp", "cloud_run", "europe-west1", "kubernetes"),
            (readBack.InstallIdPerProcess, readBack.Cloud, readBack.CloudPlatform, readBack.CloudRegion, readBack.Container));
    }

    private static byte[] Write(EventContext context)
    {
        var stream = new MemoryStream();
        WireJson.WriteBatch(stream, new EventBatch { SentAt = DateTimeOffset.UtcNow, Context = context, Events = [] });
        return stream.ToArray();
    }
}
