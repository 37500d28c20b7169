using Candor.Catalog;
using Candor.Protocol;

namespace Candor.Collector.Demo;

/// <summary>
/// The events of the demo's simulated tool, <c>acme</c>: the sample tool's <c>command</c> (one
/// addition: the masked <c>arguments</c>), an operation, errors, heartbeats of its long-running
/// <c>acme agent</c>, and a pipeline run with counts. The collector is given these schemas in memory.
/// </summary>
internal static class DemoCatalog
{
    public const string Product = "acme";

    /// <summary>What the released versions (1.x) declare; the collector knows these schemas.</summary>
    public static EventCatalog Released { get; } = Build(preview: false);

    /// <summary>What the 2.0 preview declares: one event more, <c>plugin_loaded</c>, whose schema was
    /// never deployed to the collector, so its events land in the quarantine as <c>unknown_schema</c>.</summary>
    public static EventCatalog Preview { get; } = Build(preview: true);

    private static EventCatalog Build(bool preview)
    {
        var catalog = new EventCatalog()
            .Add(new EventDefinition(EventConventions.CommandEvent, "One acme command ran: which one, how it ended and how long it took.", "1-1-0")
                .String(EventConventions.CommandProperty, "The command path, e.g. 'run' or 'telemetry status'; never its arguments.", maxLength: 100, required: true)
                .Integer(EventConventions.ExitCode, "The command's exit code.", required: true)
                .Integer(EventConventions.DurationMs, "How long the command took, in milliseconds.", minimum: 0, required: true)
                .String("arguments", "The command line with every value masked.", maxLength: 200))
            .Add(EventDefinition.Operation(EventConventions.OperationEvent, "A timed step of a command, such as loading a source.")
                .String(EventConventions.OperationProperty, "The step's name.", maxLength: 64, required: true))
            .Add(EventDefinition.Error())
            .Add(new EventDefinition(EventConventions.HeartbeatEvent, "The acme agent is alive.")
                .Integer("uptime_s", "Seconds since the agent started.", minimum: 0))
            .Add(new EventDefinition("pipeline_run", "A pipeline ran: its size, never its names.")
                .Enum("source_type", "The kind of data source.", ["postgres", "duckdb", "csv", "parquet"], required: true)
                .Integer("datasets", "Datasets in the pipeline.", minimum: 0)
                .Integer("nodes", "Nodes in the pipeline.", minimum: 0)
                .Integer("rows", "Rows processed.", minimum: 0));
        if (preview)
        {
            catalog.Add(new EventDefinition("plugin_loaded", "A plugin was loaded.")
                .String("plugin", "The plugin's package id.", maxLength: 100, required: true));
        }

        return catalog;
    }
}
