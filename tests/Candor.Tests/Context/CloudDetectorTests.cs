using Candor.Context;

namespace Candor.Tests.Context;

public sealed class CloudDetectorTests
{
    // Each row: the variables ("NAME=value;NAME=value"), the marker files that exist, then the
    // expected cloud, platform, region and container ("" for none).
    [Theory]
    [InlineData("", "", "", "", "", "")]
    [InlineData("AWS_LAMBDA_FUNCTION_NAME=resize;AWS_REGION=eu-west-1", "", "aws", "lambda", "eu-west-1", "")]
    [InlineData("ECS_CONTAINER_METADATA_URI_V4=http://169.254.170.2/v4/abc;AWS_DEFAULT_REGION=us-east-2", "", "aws", "ecs", "us-east-2", "")]
    [InlineData("ECS_CONTAINER_METADATA_URI_V4=http://169.254.170.2/v4/abc;AWS_REGION=eu-central-1;AWS_DEFAULT_REGION=us-east-2", "", "aws", "ecs", "eu-central-1", "")]
    [InlineData("AWS_EXECUTION_ENV=AWS_ECS_FARGATE;AWS_REGION=ap-south-1", "", "aws", "ecs", "ap-south-1", "")]
    [InlineData("AWS_EXECUTION_ENV=CloudShell;AWS_REGION=ap-south-1", "", "aws", "", "ap-south-1", "")]
    [InlineData("AWS_REGION=eu-west-1;AWS_DEFAULT_REGION=eu-west-1", "", "", "", "", "")]
    [InlineData("WEBSITE_SITE_NAME=acme;REGION_NAME=West Europe", "", "azure", "app_service", "westeurope", "")]
    [InlineData("WEBSITE_SITE_NAME=acme;FUNCTIONS_WORKER_RUNTIME=dotnet-isolated;REGION_NAME=East US 2", "", "azure", "functions", "eastus2", "")]
    [InlineData("FUNCTIONS_WORKER_RUNTIME=dotnet-isolated", "", "", "", "", "")]
    [InlineData("CONTAINER_APP_NAME=acme;KUBERNETES_SERVICE_HOST=10.0.0.1", "", "azure", "container_apps", "", "kubernetes")]
    [InlineData("K_SERVICE=acme;K_REVISION=acme-001", "", "gcp", "cloud_run", "", "")]
    [InlineData("K_SERVICE=acme;CLOUD_RUN_REGION=europe-west1", "", "gcp", "cloud_run", "europe-west1", "")]
    [InlineData("K_SERVICE=acme;GOOGLE_CLOUD_REGION=us-central1", "", "gcp", "cloud_run", "us-central1", "")]
    [InlineData("K_SERVICE=acme;FUNCTION_TARGET=Acme.Function", "", "gcp", "cloud_functions", "", "")]
    [InlineData("CLOUD_RUN_JOB=nightly", "", "gcp", "cloud_run_jobs", "", "")]
    [InlineData("GAE_SERVICE=default", "", "gcp", "app_engine", "", "")]
    [InlineData("FLY_REGION=AMS;FLY_APP_NAME=acme", "", "fly", "", "ams", "")]
    [InlineData("DYNO=web.1", "", "heroku", "", "", "")]
    [InlineData("RENDER=true", "", "render", "", "", "")]
    [InlineData("VERCEL=1;VERCEL_REGION=cdg1", "", "vercel", "", "cdg1", "")]
    [InlineData("RAILWAY_ENVIRONMENT_NAME=production;RAILWAY_REPLICA_REGION=europe-west4-drams3a", "", "railway", "", "europe-west4-drams3a", "")]
    [InlineData("KUBERNETES_SERVICE_HOST=10.0.0.1", "/.dockerenv", "", "", "", "kubernetes")]
    [InlineData("", "/.dockerenv", "", "", "", "docker")]
    [InlineData("", "/run/.containerenv", "", "", "", "podman")]
    [InlineData("container=podman", "", "", "", "", "podman")]
    [InlineData("container=LXC", "/.dockerenv", "", "", "", "lxc")]
    [InlineData("container=  ", "", "", "", "", "")]
    [InlineData("container=☃", "", "", "", "", "container")]
    [InlineData("K_SERVICE=acme;CLOUD_RUN_REGION=Europe West/1", "", "gcp", "cloud_run", "europe_west_1", "")]
    public void RecognisesCloudsAndContainersFromVariablesAndMarkerFiles(
        string variables, string files, string cloud, string platform, string region, string container)
    {
        var environment = variables.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
        var existing = files.Split(';', StringSplitOptions.RemoveEmptyEntries);

        var facts = CloudDetector.Detect(environment.GetValueOrDefault, existing.Contains);

        Assert.Equal(
            (Empty(cloud), Empty(platform), Empty(region), Empty(container)),
            (facts.Cloud, facts.Platform, facts.Region, facts.Container));
    }

    [Fact]
    public void ValuesAreShortLowerCaseLabelsWhateverAVariableHolds()
    {
        var environment = new Dictionary<string, string>
        {
            ["FLY_REGION"] = new string('X', 500) + "\n; rm -rf /",
            ["container"] = "Docker Desktop (WSL2) " + new string('y', 100),
        };

        var facts = CloudDetector.Detect(environment.GetValueOrDefault, _ => false);

        foreach (var value in new[] { facts.Region!, facts.Container! })
        {
            Assert.InRange(value.Length, 1, CloudDetector.MaxLength);
            Assert.Matches("^[a-z0-9._-]+$", value);
        }

        Assert.StartsWith("docker_desktop__wsl2_", facts.Container, StringComparison.Ordinal);
    }

    [Fact]
    public void OnlyTheTwoMarkerFilesAreLookedAtAndOnlyWhenNoVariableAnswers()
    {
        var asked = new List<string>();

        CloudDetector.Detect(_ => null, path =>
        {
            asked.Add(path);
            return false;
        });
        CloudDetector.Detect(name => name == "KUBERNETES_SERVICE_HOST" ? "10.0.0.1" : null, path =>
        {
            asked.Add("kubernetes:" + path);
            return false;
        });

        Assert.Equal(["/.dockerenv", "/run/.containerenv"], asked);
    }

    private static string? Empty(string value) => value.Length == 0 ? null : value;
}
