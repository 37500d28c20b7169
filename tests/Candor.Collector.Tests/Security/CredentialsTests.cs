using System.Text.Json;
using Candor.Collector.Security;
using Candor.TestSupport;

namespace Candor.Collector.Tests.Security;

public sealed class CredentialsTests
{
    [Fact]
    public void WithNothingConfiguredDevelopmentCredentialsAreCreatedOnceAndReused()
    {
        using var data = new TemporaryDirectory();
        var options = new CollectorOptions { DataDirectory = data.Path };

        var first = Credentials.Load(options);
        var second = Credentials.Load(options);

        var created = Assert.IsType<DevelopmentCredentials>(first.CreatedDevelopmentCredentials);
        Assert.Null(second.CreatedDevelopmentCredentials);
        Assert.Equal(WriteKeyCheck.Valid, second.CheckWriteKey(created.WriteKey, "any-product"));
        Assert.True(second.IsAdminToken(created.AdminToken));
        using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(data.Path, Credentials.DevelopmentFileName)));
        Assert.Equal(created.WriteKey, file.RootElement.GetProperty("write_key").GetString());
    }

    [Fact]
    public void ConfiguredKeysAreBoundToTheirProductAndNoDevelopmentFileIsWritten()
    {
        using var data = new TemporaryDirectory();
        var options = new CollectorOptions
        {
            DataDirectory = data.Path,
            AdminToken = "adm_0123456789abcdef",
            Products = { ["acme"] = new ProductOptions { WriteKey = "wk_acme_0123456789" } },
        };

        var credentials = Credentials.Load(options);

        Assert.Equal(WriteKeyCheck.Valid, credentials.CheckWriteKey("wk_acme_0123456789", "acme"));
        Assert.Equal(WriteKeyCheck.Invalid, credentials.CheckWriteKey("wk_acme_0123456789", "other"));
        Assert.Equal(WriteKeyCheck.Invalid, credentials.CheckWriteKey("wk_acme_012345678", "acme"));
        Assert.Equal(WriteKeyCheck.Missing, credentials.CheckWriteKey("", "acme"));
        Assert.False(credentials.IsAdminToken("adm_0123456789abcdeF"));
        Assert.False(File.Exists(Path.Combine(data.Path, Credentials.DevelopmentFileName)));
    }

    [Fact]
    public void ShortKeysAreRefusedAtStartupWithEveryProblemListed()
    {
        var options = new CollectorOptions
        {
            AdminToken = "short",
            Products = { ["acme"] = new ProductOptions { WriteKey = "short" }, ["beta"] = new ProductOptions() },
        };

        var errors = options.Validate();

        Assert.Equal(3, errors.Count);
    }
}
