namespace Candor.Context;

/// <summary>Recognises continuous-integration environments from their well-known variables.</summary>
internal static class CiDetector
{
    // Specific systems first so the name is precise; the generic CI variable last.
    private static readonly (string Variable, string Name)[] Known =
    [
        ("GITHUB_ACTIONS", "github-actions"),
        ("GITLAB_CI", "gitlab"),
        ("TF_BUILD", "azure-pipelines"),
        ("BUILDKITE", "buildkite"),
        ("CIRCLECI", "circleci"),
        ("TRAVIS", "travis"),
        ("JENKINS_URL", "jenkins"),
        ("TEAMCITY_VERSION", "teamcity"),
        ("BITBUCKET_BUILD_NUMBER", "bitbucket"),
        ("CODEBUILD_BUILD_ID", "aws-codebuild"),
        ("APPVEYOR", "appveyor"),
        ("DRONE", "drone"),
        ("SEMAPHORE", "semaphore"),
        ("BUILD_ID", "generic"),
        ("CONTINUOUS_INTEGRATION", "generic"),
        ("RUN_ID", "generic"),
        ("CI", "generic"),
    ];

    /// <summary>The detected CI system's name, or <see langword="null"/> when not under CI.</summary>
    public static string? Detect(Func<string, string?> getVariable)
    {
        foreach (var (variable, name) in Known)
        {
            var value = getVariable(variable);
            if (string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            var trimmed = value.Trim();
            if (trimmed.Equals("false", StringComparison.OrdinalIgnoreCase) || trimmed == "0")
            {
                continue;
            }

            return name;
        }

        return null;
    }
}
