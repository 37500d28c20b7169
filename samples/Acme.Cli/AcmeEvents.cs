using Candor.Catalog;

namespace Acme.Cli;

/// <summary>Every event Acme sends, declared once: the client drops anything else, and
/// <c>schemas/</c> is generated from this catalog for the collector.</summary>
internal static class AcmeEvents
{
    public static EventCatalog Catalog { get; } = new EventCatalog()
        .Add(new EventDefinition("command", "One acme command ran: which one, how it ended and how long it took.")
            .String("command", "The command path, e.g. 'run' or 'telemetry status'; never its arguments.", maxLength: 100, required: true)
            .Integer("exit_code", "The command's exit code.", required: true)
            .Integer("duration_ms", "How long the command took, in milliseconds.", minimum: 0, required: true));
}
