namespace Candor.Context;

/// <summary>Where the process runs, as far as its environment variables and two marker files tell.</summary>
/// <param name="Cloud">The provider, e.g. <c>aws</c>, <c>azure</c>, <c>gcp</c>, <c>fly</c>; or none.</param>
/// <param name="Platform">The provider's service, e.g. <c>lambda</c>, <c>app_service</c>, <c>cloud_run</c>; or none.</param>
/// <param name="Region">The region, e.g. <c>eu-west-1</c>; or none.</param>
/// <param name="Container">The container runtime around the process, e.g. <c>kubernetes</c>, <c>docker</c>; or none.</param>
internal readonly record struct CloudFacts(string? Cloud, string? Platform, string? Region, string? Container);

/// <summary>
/// Recognises cloud services and container runtimes from the variables and files they put in every
/// process they start. Never asks the network (no metadata endpoint, not even the ECS one whose
/// address it sees): a CLI tool pays this at every start, so it is a few variable reads and at most
/// two file checks. Every value is bounded and reduced to <c>[a-z0-9._-]</c>, so whatever a variable
/// holds, what is sent is a short label, never free text.
/// </summary>
internal static class CloudDetector
{
    /// <summary>The longest value sent.</summary>
    public const int MaxLength = 64;

    /// <summary>Detects the cloud and container. <paramref name="fileExists"/> is <see cref="File.Exists"/>
    /// in the SDK (a seam, so tests do not depend on the machine running them).</summary>
    public static CloudFacts Detect(Func<string, string?> getVariable, Func<string, bool> fileExists)
    {
        var (cloud, platform, region) = DetectCloud(getVariable);
        return new CloudFacts(cloud, platform, Sanitize(region), DetectContainer(getVariable, fileExists));
    }

    // Most specific first: an Azure Functions app also has App Service's variables, a Cloud Run
    // function also has Cloud Run's. A region variable alone (AWS_REGION, AWS_DEFAULT_REGION) does
    // not say the process runs in that cloud: developers and CI runners set them to call its APIs.
    private static (string? Cloud, string? Platform, string? Region) DetectCloud(Func<string, string?> get)
    {
        if (Has(get, "AWS_LAMBDA_FUNCTION_NAME"))
        {
            return ("aws", "lambda", AwsRegion(get));
        }

        if (Has(get, "ECS_CONTAINER_METADATA_URI_V4") || Has(get, "ECS_CONTAINER_METADATA_URI"))
        {
            return ("aws", "ecs", AwsRegion(get));
        }

        if (get("AWS_EXECUTION_ENV") is { Length: > 0 } execution)
        {
            // Set by AWS's managed runtimes: AWS_Lambda_dotnet8, AWS_ECS_FARGATE, AWS_ECS_EC2, …
            var platform = execution.StartsWith("AWS_Lambda", StringComparison.OrdinalIgnoreCase) ? "lambda"
                : execution.StartsWith("AWS_ECS", StringComparison.OrdinalIgnoreCase) ? "ecs"
                : null;
            return ("aws", platform, AwsRegion(get));
        }

        if (Has(get, "WEBSITE_SITE_NAME"))
        {
            // App Service names its region for people ("West Europe"); Azure's own name has no spaces.
            var region = get("REGION_NAME")?.Replace(" ", "", StringComparison.Ordinal);
            return ("azure", Has(get, "FUNCTIONS_WORKER_RUNTIME") ? "functions" : "app_service", region);
        }

        if (Has(get, "CONTAINER_APP_NAME"))
        {
            return ("azure", Has(get, "FUNCTIONS_WORKER_RUNTIME") ? "functions" : "container_apps", null);
        }

        if (Has(get, "FUNCTION_TARGET"))
        {
            return ("gcp", "cloud_functions", GcpRegion(get) ?? get("FUNCTION_REGION"));
        }

        if (Has(get, "K_SERVICE"))
        {
            return ("gcp", "cloud_run", GcpRegion(get));
        }

        if (Has(get, "CLOUD_RUN_JOB"))
        {
            return ("gcp", "cloud_run_jobs", GcpRegion(get));
        }

        if (Has(get, "GAE_SERVICE"))
        {
            return ("gcp", "app_engine", GcpRegion(get));
        }

        if (get("FLY_REGION") is { Length: > 0 } flyRegion)
        {
            return ("fly", null, flyRegion);
        }

        if (Has(get, "DYNO"))
        {
            return ("heroku", null, null);
        }

        if (Has(get, "RENDER"))
        {
            return ("render", null, null);
        }

        if (Has(get, "VERCEL"))
        {
            return ("vercel", null, get("VERCEL_REGION"));
        }

        if (Has(get, "RAILWAY_ENVIRONMENT_NAME"))
        {
            return ("railway", null, get("RAILWAY_REPLICA_REGION"));
        }

        return (null, null, null);
    }

    private static string? AwsRegion(Func<string, string?> get) => NonEmpty(get("AWS_REGION")) ?? NonEmpty(get("AWS_DEFAULT_REGION"));

    private static string? GcpRegion(Func<string, string?> get) => NonEmpty(get("CLOUD_RUN_REGION")) ?? NonEmpty(get("GOOGLE_CLOUD_REGION"));

    private static string? DetectContainer(Func<string, string?> get, Func<string, bool> fileExists)
    {
        if (Has(get, "KUBERNETES_SERVICE_HOST"))
        {
            return "kubernetes";
        }

        // The systemd convention: a container manager sets "container" to its name (podman, lxc, …).
        if (get("container") is { } manager && !string.IsNullOrWhiteSpace(manager))
        {
            return Sanitize(manager) ?? "container";
        }

        return fileExists("/.dockerenv") ? "docker"
            : fileExists("/run/.containerenv") ? "podman"
            : null;
    }

    private static bool Has(Func<string, string?> get, string name) => !string.IsNullOrWhiteSpace(get(name));

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    /// <summary><paramref name="value"/> lower-cased, with every character outside <c>[a-z0-9._-]</c>
    /// replaced by <c>_</c>, cut to <see cref="MaxLength"/>; none when nothing of it is left.</summary>
    internal static string? Sanitize(string? value)
    {
        var trimmed = value.AsSpan().Trim();
        if (trimmed.IsEmpty)
        {
            return null;
        }

        if (trimmed.Length > MaxLength)
        {
            trimmed = trimmed[..MaxLength];
        }

        Span<char> buffer = stackalloc char[trimmed.Length];
        var meaningful = false;
        for (var i = 0; i < trimmed.Length; i++)
        {
            var c = char.ToLowerInvariant(trimmed[i]);
            var kept = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-' or '_';
            buffer[i] = kept ? c : '_';
            meaningful |= kept && c != '_';
        }

        return meaningful ? new string(buffer) : null;
    }
}
