using Acme.Server;

if (args is ["export-schemas", var directory])
{
    // What the collector validates Acme Server's events against (samples/Acme.Server/schemas).
    foreach (var file in AcmeServerEvents.Catalog().ExportSchemas(directory, AcmeServerEvents.Product))
    {
        Console.WriteLine(file);
    }

    return 0;
}

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddProblemDetails();
builder.Services
    .AddCandor(builder.Configuration.GetSection("Candor"), AcmeServerEvents.Catalog(), AcmeServerTelemetry.Configure)
    .AddCandorHttpUsage();

var app = builder.Build();
app.UseExceptionHandler();
AcmeServerRoutes.Map(app);
await app.RunAsync();
return 0;
