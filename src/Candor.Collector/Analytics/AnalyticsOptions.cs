namespace Candor.Collector.Analytics;

/// <summary>Analytics settings, bound from <c>Candor:Analytics</c>.</summary>
internal sealed class AnalyticsOptions
{
    public const string Section = "Candor:Analytics";

    /// <summary>k for k-anonymity: a breakdown group with fewer distinct installs is folded into
    /// "other" in every answer. Default: 5. Minimum: 2.</summary>
    public int MinimumGroupSize { get; set; } = 5;

    /// <summary>How recent a heartbeat must be for its instance to count as live. Default: 15 minutes.</summary>
    public TimeSpan LiveWindow { get; set; } = TimeSpan.FromMinutes(15);

    public List<string> Validate()
    {
        var errors = new List<string>();
        if (MinimumGroupSize < 2)
        {
            errors.Add("Candor:Analytics:MinimumGroupSize must be at least 2.");
        }

        if (LiveWindow <= TimeSpan.Zero)
        {
            errors.Add("Candor:Analytics:LiveWindow must be positive.");
        }

        return errors;
    }
}
