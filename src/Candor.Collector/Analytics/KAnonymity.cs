using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Candor.Collector.Analytics;

/// <summary>
/// What the viewer token reads: every analytics answer with no figure computed from fewer than k
/// distinct installs. One place applies the rule to every store's results, so no store or endpoint
/// has to remember it. The answer keeps the admin's shape; a withheld figure is left out, and the
/// object that held it (the summary, a series point, a row, the retention figures, …) says which
/// and why: <c>"withheld": ["installs", "events"], "k": 5</c>. Identity fields (a row's label,
/// command, route, method, status, a point's period) stay. The rules, each judged by the distinct
/// installs a figure is computed from:
/// <list type="bullet">
/// <item>A group (an answer, a point, a row) from fewer than k installs — none included — shows no
/// figure. Breakdowns are folded by the store already (a value of fewer than k installs joins
/// "other"), so only an "other" row can be withheld here.</item>
/// <item>A count of installs within a group of k or more (new installs, installs eligible for or
/// retained after 7 and 30 days, live and started instances) is withheld when it, or the rest of
/// the group, is between 1 and k − 1: otherwise the difference would single those installs out.</item>
/// <item>Minimum and maximum of a numeric property are never shown (each is one install's value);
/// its percentiles are, when computed from k installs or more.</item>
/// </list>
/// </summary>
internal sealed class KAnonymity(int k)
{
    private const string WithheldField = "withheld";

    // The fields that name a row or point rather than count anything: never withheld.
    private static readonly HashSet<string> Identity = new(StringComparer.Ordinal)
    {
        "label", "period", "command", "route", "method", "error_code", "status", "as_of", "since",
    };

    private static readonly AnalyticsJsonContext Json = AnalyticsJsonContext.Default;

    public int K => k;

    public JsonNode Summary(Summary summary)
    {
        var node = Serialize(summary, Json.Summary).AsObject();
        if (summary.Installs < k)
        {
            WithholdAll(node);
            return node;
        }

        if (Small(summary.NewInstalls) || Small(summary.Installs - summary.NewInstalls))
        {
            Withhold(node, "new_installs");
        }

        if (summary.CommandInstalls < k)
        {
            Withhold(node, "command_runs", "failure_rate", "command_installs");
        }

        return node;
    }

    public JsonNode Series(IReadOnlyList<SeriesPoint> points) =>
        Rows(Serialize(points, Json.IReadOnlyListSeriesPoint), points.Select(p => p.Installs));

    public JsonNode Versions(IReadOnlyList<SeriesBreakdownPoint> points) =>
        Rows(Serialize(points, Json.IReadOnlyListSeriesBreakdownPoint), points.Select(p => p.Installs));

    public JsonNode Breakdown(IReadOnlyList<BreakdownRow> rows) =>
        Rows(Serialize(rows, Json.IReadOnlyListBreakdownRow), rows.Select(r => r.Installs));

    /// <summary>Commands and operations: a row from fewer than k installs shows neither its counts nor its duration percentiles.</summary>
    public JsonNode Runs(IReadOnlyList<CommandRow> rows) =>
        Rows(Serialize(rows, Json.IReadOnlyListCommandRow), rows.Select(r => r.Installs));

    public JsonNode Retention(RetentionFigures figures)
    {
        var node = Serialize(figures, Json.RetentionFigures).AsObject();
        if (figures.Installs < k)
        {
            WithholdAll(node);
            return node;
        }

        Cohort(node, figures.Installs, figures.Eligible7, figures.Retained7, "eligible7", "retained7", "share7");
        Cohort(node, figures.Installs, figures.Eligible30, figures.Retained30, "eligible30", "retained30", "share30");
        return node;
    }

    public JsonNode Numeric(NumericSummary summary)
    {
        var node = Serialize(summary, Json.NumericSummary).AsObject();
        if (summary.Installs < k)
        {
            WithholdAll(node);
        }
        else
        {
            Withhold(node, "min", "max");
        }

        return node;
    }

    /// <summary>Live instances: an instance is an install (or a process without one), so the counts are installs.</summary>
    public JsonNode Live(LiveInstances live)
    {
        var node = Serialize(live, Json.LiveInstances).AsObject();
        if (live.Instances < k)
        {
            WithholdAll(node);
        }

        // Each row holds no more installs than all of them: below k, every row is withheld too.
        Rows(node["by_version"]!, live.ByVersion.Select(r => r.Installs));
        Rows(node["by_country"]!, live.ByCountry.Select(r => r.Installs));
        return node;
    }

    public JsonNode Services(ServicesOverview overview)
    {
        var node = Serialize(overview, Json.ServicesOverview).AsObject();
        if (overview.Installs < k)
        {
            Withhold(node, "events", "installs");
        }

        var instances = overview.Instances;
        var instancesNode = (JsonObject)node["instances"]!;
        if (instances.Installs < k)
        {
            WithholdAll(instancesNode);
        }
        else
        {
            if (Small(instances.LiveInstalls) || Small(instances.Installs - instances.LiveInstalls) || Small(instances.Live))
            {
                Withhold(instancesNode, "live", "live_installs");
            }

            if (instances.StartedInstalls < k)
            {
                // Startup times are already left out by the store below k installs of their own.
                Withhold(instancesNode, "started", "started_installs", "startup_p50_ms", "startup_p95_ms");
            }
        }

        Rows(node["routes"]!, overview.Routes.Select(r => r.Installs));
        Rows(node["http_errors"]!, overview.HttpErrors.Select(r => r.Installs));
        Rows(node["errors"]!, overview.Errors.Select(r => r.Installs));
        Rows(node["clients"]!, overview.Clients.Select(r => r.Installs));
        Rows(node["languages"]!, overview.Languages.Select(r => r.Installs));
        Rows(node["clouds"]!, overview.Clouds.Select(r => r.Installs));
        Rows(node["platforms"]!, overview.Platforms.Select(r => r.Installs));
        Rows(node["shutdown_reasons"]!, overview.ShutdownReasons.Select(r => r.Installs));
        return node;
    }

    // A count of installs within a group of k or more that would single out fewer than k of them.
    private bool Small(long installs) => installs > 0 && installs < k;

    // Eligible installs are a count within the cohort; retained ones a count within the eligible.
    private void Cohort(JsonObject node, long cohort, long eligible, long retained, string eligibleName, string retainedName, string shareName)
    {
        if (Small(eligible) || Small(cohort - eligible))
        {
            Withhold(node, eligibleName, retainedName, shareName);
        }
        else if (eligible < k || Small(retained) || Small(eligible - retained))
        {
            Withhold(node, retainedName, shareName);
        }
    }

    // Rows (or points) in the same order as their install counts: each from fewer than k installs shows no figure.
    private JsonNode Rows(JsonNode rows, IEnumerable<long> installs)
    {
        var array = rows.AsArray();
        var i = 0;
        foreach (var count in installs)
        {
            if (count < k)
            {
                WithholdAll(array[i]!.AsObject());
            }

            i++;
        }

        return rows;
    }

    private void WithholdAll(JsonObject node) =>
        Withhold(node, [.. node.Where(p => !Identity.Contains(p.Key) && p.Key is not WithheldField and not "k" && p.Value is not (JsonObject or JsonArray)).Select(p => p.Key)]);

    // Leaves the fields out and names them in "withheld" (with k), so a reader can tell a withheld
    // figure from one that has no value.
    private void Withhold(JsonObject node, params string[] names)
    {
        if (node[WithheldField] is not JsonArray withheld)
        {
            withheld = [];
            node[WithheldField] = withheld;
            node["k"] = k;
        }

        foreach (var name in names)
        {
            node.Remove(name);
            if (!withheld.Any(w => w!.GetValue<string>() == name))
            {
                withheld.Add(name);
            }
        }
    }

    private static JsonNode Serialize<T>(T value, JsonTypeInfo<T> typeInfo) => JsonSerializer.SerializeToNode(value, typeInfo)!;
}
