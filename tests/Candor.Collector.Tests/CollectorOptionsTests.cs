namespace Candor.Collector.Tests;

public sealed class CollectorOptionsTests
{
    [Theory]
    [InlineData("256MB", 256L << 20)]
    [InlineData("512KB", 512L << 10)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData(" 64 mb ", 64L << 20)]
    [InlineData("0", 0L)]
    [InlineData("1.5GB", 3L << 29)]
    public void ReadsCheckpointSizes(string text, long bytes)
    {
        var options = new CollectorOptions { DuckDbCheckpointSize = text };
        Assert.Equal(bytes, options.DuckDbCheckpointBytes);
        Assert.DoesNotContain(options.Validate(), e => e.Contains("DuckDbCheckpointSize", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("256")]
    [InlineData("-1MB")]
    [InlineData("1.5")]
    [InlineData("lots")]
    [InlineData("99999999999GB")]
    public void RefusesOtherCheckpointSizes(string text) =>
        Assert.Contains(new CollectorOptions { DuckDbCheckpointSize = text }.Validate(), e => e.Contains("DuckDbCheckpointSize", StringComparison.Ordinal));

    [Theory]
    [InlineData("48MB", true)]
    [InlineData("1.5GB", true)]
    [InlineData("512 KiB", true)]
    [InlineData("0", false)]
    [InlineData("48", false)]
    [InlineData("lots", false)]
    public void TheMemoryLimitAndTheTrimBoundReadSizesWithTheSameGrammar(string text, bool validMemoryLimit)
    {
        var errors = new CollectorOptions { DuckDbMemoryLimit = text, MemoryTrimAbove = text }.Validate();

        Assert.Equal(validMemoryLimit, !errors.Any(e => e.Contains("DuckDbMemoryLimit", StringComparison.Ordinal)));
        Assert.Equal(CollectorOptions.SizeInBytes(text) is null, errors.Any(e => e.Contains("MemoryTrimAbove", StringComparison.Ordinal)));
    }
}
