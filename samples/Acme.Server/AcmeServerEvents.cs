using Candor.Catalog;
using Candor.Hosting;

namespace Acme.Server;

/// <summary>Acme Server's events: its own bulk import, plus the service events Candor records for every
/// service (lifecycle, request usage, errors). `acme-server export-schemas DIR` writes their schemas.</summary>
public static class AcmeServerEvents
{
    public const string Product = "acme-server";

    public static EventCatalog Catalog() => ServiceEvents.AddTo(new EventCatalog()
        .Add(EventDefinition.Operation("import", "A bulk import ran.")
            .Count("records", "Records imported.")
            .Count("batches", "Batches the records came in.")));
}
