using Candor.Collector.Schemas;

namespace Candor.Collector.Tests.Schemas;

public sealed class SchemaVersionTests
{
    [Theory]
    [InlineData("1-0-0", 1, 0, 0)]
    [InlineData("2-10-3", 2, 10, 3)]
    [InlineData("12-0-123", 12, 0, 123)]
    public void ParsesSchemaVerVersions(string text, int model, int revision, int addition)
    {
        Assert.True(SchemaVersion.TryParse(text, out var version));
        Assert.Equal(new SchemaVersion(model, revision, addition), version);
        Assert.Equal(text, version.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("1")]
    [InlineData("1-0")]
    [InlineData("1-0-")]
    [InlineData("1-0-0-")]
    [InlineData("1-0-0-0")]
    [InlineData("-1-0-0")]
    [InlineData("1--0")]
    [InlineData("0-1-0")]
    [InlineData("1-a-0")]
    [InlineData("1-0-+1")]
    [InlineData("1-0- 1")]
    [InlineData("latest")]
    public void RefusesAnythingElse(string? text) => Assert.False(SchemaVersion.TryParse(text, out _));
}
