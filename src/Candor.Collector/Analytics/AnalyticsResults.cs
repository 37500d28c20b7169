namespace Candor.Collector.Analytics;

/// <summary>One point of a time series of distinct installs.</summary>
internal sealed record SeriesPoint(DateTimeOffset Period, long Installs);

/// <summary>One group of a breakdown; groups under the k-anonymity threshold are folded into
/// <see cref="AnalyticsConstants.Other"/>.</summary>
internal sealed record BreakdownRow(string Label, long Events, long Installs);

/// <summary>One cell of a breakdown over time (e.g. installs per version per week).</summary>
internal sealed record SeriesBreakdownPoint(DateTimeOffset Period, string Label, long Installs);

/// <summary>Installs first seen in the range, and the share of them still active 7 and 30 days
/// after their first event. An install counts as eligible only once 7 (or 30) days have passed
/// since its first event by the reference time; shares are over eligible installs.</summary>
internal sealed record RetentionFigures(
    long Installs, long Eligible7, long Retained7, double? Share7, long Eligible30, long Retained30, double? Share30)
{
    /// <summary>The figures from a store's counts; a share is null when no install is eligible yet.</summary>
    public static RetentionFigures FromCounts(long installs, long eligible7, long retained7, long eligible30, long retained30) =>
        new(installs, eligible7, retained7, Share(retained7, eligible7), eligible30, retained30, Share(retained30, eligible30));

    private static double? Share(long part, long whole) => whole == 0 ? null : (double)part / whole;
}

/// <summary>First and last seen of one install.</summary>
internal sealed record InstallActivity(Guid InstallId, DateTimeOffset FirstSeen, DateTimeOffset LastSeen, long Events);

/// <summary>Usage, failure rate and duration percentiles of one command or operation.</summary>
internal sealed record CommandRow(string Command, long Runs, long Installs, long Failures, double FailureRate, double? P50Ms, double? P95Ms);

/// <summary>Count, sum and distribution of one numeric property; <see cref="Installs"/>: the distinct
/// installs whose events gave a value (what the viewer's k-anonymity judges these figures by).</summary>
internal sealed record NumericSummary(long Count, double? Sum, double? Mean, double? P50, double? P90, double? P99, double? Min, double? Max, long Installs);

/// <summary>Instances that sent a heartbeat recently.</summary>
internal sealed record LiveInstances(DateTimeOffset Since, long Instances, IReadOnlyList<BreakdownRow> ByVersion, IReadOnlyList<BreakdownRow> ByCountry);

/// <summary>The headline numbers of a range, for the dashboard's tiles and <c>candor report</c>.
/// <see cref="CommandInstalls"/>: the distinct installs behind the command runs and their failure rate.</summary>
internal sealed record Summary(long Events, long Installs, long NewInstalls, long CommandRuns, double FailureRate, long CommandInstalls);

/// <summary>Which reader a token names (<c>admin</c> or <c>viewer</c>), and the k its answers are
/// k-anonymous by (every answer under the viewer token; admin answers only fold breakdowns).</summary>
internal sealed record ReaderAnswer(string Role, int K);

internal static class AnalyticsConstants
{
    /// <summary>The label every group with fewer than k installs is folded into.</summary>
    public const string Other = "other";

    /// <summary>The label of a missing value.</summary>
    public const string Unknown = "unknown";
}
