using System.Text.Json;
using Candor.Protocol;
using Candor.TestSupport;
using Candor.Transparency;

namespace Candor.Tests.Transparency;

public sealed class TransparencyLogTests
{
    [Fact]
    public void TheLogKeepsOnlyTheLastEventsOneJsonObjectPerLine()
    {
        using var directory = new TemporaryDirectory();
        var log = new TransparencyLog(directory.Combine("state", TransparencyLog.FileName), capacity: 5);

        for (var i = 0; i < 3; i++)
        {
            log.Append(Enumerable.Range(i * 3, 3).Select(Event));
        }

        var lines = File.ReadAllLines(log.Path);
        Assert.Equal(5, lines.Length);
        Assert.Equal([4, 5, 6, 7, 8], lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("properties").GetProperty("i").GetInt32()));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(log.Path)!, "*.tmp"));
    }

    private static TelemetryEvent Event(int i) => new()
    {
        Id = Guid.CreateVersion7(),
        Name = "tick",
        Version = "1-0-0",
        Time = DateTimeOffset.UtcNow,
        Properties = new Dictionary<string, PropertyValue> { ["i"] = i },
    };
}
