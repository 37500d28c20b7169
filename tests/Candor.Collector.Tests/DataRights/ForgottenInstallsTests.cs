using Candor.Collector.Storage;

namespace Candor.Collector.Tests.DataRights;

public sealed class ForgottenInstallsTests
{
    [Fact]
    public void AnInstallAskedAboutBeforeItsTombstoneIsForgottenOnceTheTombstoneIsAdded()
    {
        var forgotten = new ForgottenInstalls();
        var other = Guid.NewGuid();
        var install = Guid.NewGuid();
        forgotten.Load(new byte[32], []);
        forgotten.Add(forgotten.Tombstone("acme", other));

        var before = forgotten.IsForgotten("acme", install);
        forgotten.Add(forgotten.Tombstone("acme", install));

        Assert.False(before);
        Assert.True(forgotten.IsForgotten("acme", install));
        Assert.False(forgotten.IsForgotten("globex", install));
        Assert.True(forgotten.IsForgotten("acme", install));
        Assert.True(forgotten.IsForgotten("acme", other));
    }
}
