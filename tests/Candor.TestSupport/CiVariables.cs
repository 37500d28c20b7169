namespace Candor.TestSupport;

/// <summary>
/// The variables by which tools recognise CI. Tests that start a program as an ordinary user's run
/// remove them from the child's environment, since the suite itself runs under CI (<c>CI=true</c>).
/// </summary>
internal static class CiVariables
{
    public static readonly string[] Names =
    [
        "CI", "GITHUB_ACTIONS", "GITLAB_CI", "TF_BUILD", "BUILDKITE", "CIRCLECI", "TRAVIS", "JENKINS_URL",
        "TEAMCITY_VERSION", "BITBUCKET_BUILD_NUMBER", "CODEBUILD_BUILD_ID", "APPVEYOR", "DRONE", "SEMAPHORE",
        "BUILD_ID", "CONTINUOUS_INTEGRATION", "RUN_ID",
    ];

    /// <summary>Sets every CI variable to <see langword="null"/> (removed from the child's environment).</summary>
    public static Dictionary<string, string?> Cleared(Dictionary<string, string?> environment)
    {
        foreach (var name in Names)
        {
            environment[name] = null;
        }

        return environment;
    }
}
