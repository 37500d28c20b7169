using Candor.Context;

namespace Candor.Tests.Context;

public sealed class CiDetectorTests
{
    [Theory]
    [InlineData("GITHUB_ACTIONS", "true", "github-actions")]
    [InlineData("GITLAB_CI", "true", "gitlab")]
    [InlineData("TF_BUILD", "True", "azure-pipelines")]
    [InlineData("JENKINS_URL", "http://jenkins.local/", "jenkins")]
    [InlineData("CI", "1", "generic")]
    [InlineData("CI", "false", null)]
    [InlineData("CI", "0", null)]
    [InlineData("CI", "", null)]
    [InlineData("UNRELATED", "1", null)]
    public void RecognisesCommonCiSystems(string variable, string value, string? expected)
    {
        var environment = new Dictionary<string, string> { [variable] = value };

        Assert.Equal(expected, CiDetector.Detect(name => environment.GetValueOrDefault(name)));
    }
}
