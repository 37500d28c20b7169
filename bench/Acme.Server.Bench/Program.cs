using System.Diagnostics;
using Acme.Server;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

// bench/server-throughput.sh runs this once per mode: the sample's routes with
//   none    no instrumentation (the baseline),
//   candor  Candor.Hosting + Candor.AspNetCore as the sample configures them (sending to a real collector),
//   otel    OpenTelemetry's ASP.NET Core instrumentation, traces and metrics, to in-memory exporters.
var mode = args.FirstOrDefault(a => a is "none" or "candor" or "otel")
    ?? throw new ArgumentException("usage: Acme.Server.Bench none|candor|otel [--urls ...]");
var builder = WebApplication.CreateBuilder(args.Where(a => a != mode).ToArray());
builder.Logging.ClearProviders();
builder.Services.AddProblemDetails();
if (mode == "candor")
{
    builder.Services
        .AddCandor(builder.Configuration.GetSection("Candor"), AcmeServerEvents.Catalog(), AcmeServerTelemetry.Configure)
        .AddCandorHttpUsage();
}
else if (mode == "otel")
{
    // Spans go to an in-memory exporter that counts and drops them (one that keeps every span would
    // measure the garbage collector rather than the instrumentation); metrics to OpenTelemetry's own
    // in-memory exporter, which its periodic reader fills once a minute.
    var metrics = new List<Metric>();
    builder.Services.AddOpenTelemetry()
        .WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddProcessor(new SimpleActivityExportProcessor(new CountingExporter())))
        .WithMetrics(meters => meters.AddAspNetCoreInstrumentation().AddInMemoryExporter(metrics));
}

var app = builder.Build();
app.UseExceptionHandler();
AcmeServerRoutes.Map(app);
await app.RunAsync();

/// <summary>An in-memory span exporter that keeps only a count.</summary>
internal sealed class CountingExporter : BaseExporter<Activity>
{
    private long _exported;

    public long Exported => Interlocked.Read(ref _exported);

    public override ExportResult Export(in Batch<Activity> batch)
    {
        foreach (var _ in batch)
        {
            Interlocked.Increment(ref _exported);
        }

        return ExportResult.Success;
    }
}
