using Candor.Context;

namespace Candor.Tests.Context;

public sealed class ContextBuilderTests
{
    [Fact]
    public void TheContextDescribesTheProcessWithoutHostOrUserNames()
    {
        var context = ContextBuilder.Build(new CandorOptions { ProductName = "acme", ProductVersion = "1.0.0" }, _ => null);

        Assert.Equal("acme", context.Product);
        Assert.Equal("1.0.0", context.ProductVersion);
        Assert.Equal(Environment.Version.ToString(), context.RuntimeVersion);
        Assert.False(context.Ci);
        Assert.Null(context.InstallId);
        Assert.Equal(7, context.SessionId.Version);
        var text = string.Join("|", context.OsVersion, context.KernelRelease, context.Architecture, context.OsFamily);
        Assert.DoesNotContain(Environment.MachineName, text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Environment.UserName, text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void TheContextNamesTheCloudAndContainerTheProcessRunsIn()
    {
        var environment = new Dictionary<string, string> { ["AWS_LAMBDA_FUNCTION_NAME"] = "resize", ["AWS_REGION"] = "eu-west-1" };

        var context = ContextBuilder.Build(new CandorOptions { ProductName = "acme" }, environment.GetValueOrDefault, path => path == "/.dockerenv");

        Assert.Equal(("aws", "lambda", "eu-west-1", "docker"), (context.Cloud, context.CloudPlatform, context.CloudRegion, context.Container));
        Assert.False(context.InstallIdPerProcess);
    }
}
