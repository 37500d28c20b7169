using Candor.Hosting;

namespace Acme.Server;

/// <summary>Acme Server's routes: a hello world (the benchmark's route), items, a bulk import with record
/// counts, and a route that fails.</summary>
public static class AcmeServerRoutes
{
    /// <summary>The most records one import takes; more is refused with a coded problem.</summary>
    public const int MaxImportRecords = 1000;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/hello", () => "Hello from Acme Server");

        app.MapGet("/greet/{name}", (string name) => $"Hello, {name}");

        app.MapGet("/items/{id:int}", (int id) => id is > 0 and <= 100
            ? Results.Text($"item {id}")
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such item",
                extensions: new Dictionary<string, object?> { ["code"] = "item_not_found" }));

        // One record per line, in batches of 100.
        app.MapPost("/import", async (HttpRequest request, CandorTelemetry telemetry, CancellationToken cancellationToken) =>
        {
            using var reader = new StreamReader(request.Body);
            var records = 0;
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                records += line.Length > 0 ? 1 : 0;
            }

            if (records > MaxImportRecords)
            {
                return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Too many records",
                    detail: $"An import takes at most {MaxImportRecords} records.",
                    extensions: new Dictionary<string, object?> { ["code"] = "import_too_large" });
            }

            using var import = telemetry.StartOperation("import");
            import?.Add("records", records);
            import?.Add("batches", (records + 99) / 100);
            return Results.Text($"imported {records}");
        });

        app.MapGet("/fail", string () => throw new InvalidOperationException("The failing route failed, as it always does."));
    }
}
