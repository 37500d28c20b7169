using System.Text.Encodings.Web;
using System.Text.Json;
using Candor.Catalog;
using Candor.Consent;
using Candor.Delivery;
using Candor.Platform;
using Candor.Protocol;
using Candor.Rights;

namespace Candor.CommandLine;

/// <summary>
/// What the <c>telemetry</c> subcommands ask of the collector for the user — deletion (<c>forget</c>)
/// and access (<c>show --server</c>) — and what they tell the user about it: the pending deletions and
/// the privacy page (<c>status</c>), the catalog's events (<c>show --schema</c>). The only subcommands
/// that send anything; each waits a bounded time, since the user is waiting for the answer.
/// </summary>
internal sealed class CollectorRights(CandorOptions options, ICandorEnvironment environment)
{
    private string Product => options.ProductName;

    private string StateDirectory => CandorDirectories.StateDirectory(environment, Product);

    /// <summary>After the local deletion: records the deletion of <paramref name="forgotten"/> (the install id
    /// just deleted, if any) as pending, then asks the collector for every pending deletion, oldest first,
    /// once each within <see cref="RightsRequest.ForgetTimeout"/>. A confirmed deletion is no longer
    /// pending; one that got no answer stays pending for later runs (exit code 0); a refused one stays
    /// pending with its refusal (exit code 1).</summary>
    public int Forget(Guid? forgotten, TextWriter output, TextWriter error)
    {
        if (options.Endpoint is not { } endpoint)
        {
            output.WriteLine("No collector is configured, so nothing was ever sent and nothing can be asked of one.");
            return 0;
        }

        var state = StateDirectory;
        var exitCode = 0;
        if (forgotten is { } id && PendingForgets.Add(state, id, options.TimeProvider.GetUtcNow()) is { } problem)
        {
            // Asked once below anyway; only a later retry is lost.
            error.WriteLine($"The deletion request could not be kept for later runs: {problem}");
            exitCode = 1;
        }

        var pending = new List<PendingForget>(PendingForgets.Read(state));
        if (forgotten is { } asked && !pending.Exists(p => p.InstallId == asked))
        {
            // It could not be kept: asked once now all the same.
            pending.Add(new PendingForget(asked, options.TimeProvider.GetUtcNow(), null, null));
        }

        if (pending.Count == 0)
        {
            output.WriteLine("There was no install id, so the collector holds nothing of this machine's to delete.");
            return exitCode;
        }

        using var sender = new HttpSender(endpoint, options.WriteKey, Shorter(options.ConnectTimeout, RightsRequest.ForgetTimeout),
            options.TimeProvider, options.HttpHandlerFactory);
        using var timeout = new CancellationTokenSource(RightsRequest.ForgetTimeout);
        foreach (var entry in pending)
        {
            var answer = sender.Post(ProtocolConstants.ForgetPath, RightsRequest.Body(Product, entry.InstallId), timeout.Token);
            switch (answer.ForgetOutcome)
            {
                case ForgetOutcome.Confirmed:
                    PendingForgets.Confirmed(state, entry.InstallId);
                    output.WriteLine(Confirmation(entry.InstallId, answer));
                    break;
                case ForgetOutcome.Refused:
                    PendingForgets.Refused(state, entry, answer.Describe(), options.TimeProvider.GetUtcNow());
                    error.WriteLine($"The collector refused to delete what it holds for install {entry.InstallId:D}: {answer.Describe()}.");
                    error.WriteLine($"The request is kept in {PendingForgets.DirectoryOf(state)} and asked again by later runs; `{Product} telemetry status` shows it.");
                    exitCode = 1;
                    break;
                default:
                    output.WriteLine($"The collector could not be asked to delete what it holds for install {entry.InstallId:D} now ({answer.Describe()}).");
                    output.WriteLine($"The request is kept in {PendingForgets.DirectoryOf(state)} and sent again by later runs of {Product}; " +
                        $"`{Product} telemetry status` shows it until the collector confirms.");
                    LocalTelemetryData.DeleteIfEmpty(environment, Product);
                    return exitCode;
            }
        }

        LocalTelemetryData.DeleteIfEmpty(environment, Product);
        return exitCode;
    }

    /// <summary><c>show --server</c>: what the collector holds for this install, as indented JSON.</summary>
    public int ShowServer(TextWriter output, TextWriter error)
    {
        if (options.Endpoint is not { } endpoint)
        {
            error.WriteLine("No collector is configured, so nothing was ever sent and there is nothing to ask for.");
            return 1;
        }

        if (new UserSettingsFile(CandorDirectories.UserFile(environment, Product)).Read().Settings.InstallId is not { } installId)
        {
            error.WriteLine("There is no install id on this machine (telemetry was never sent, or it was turned off or forgotten): there is nothing to ask the collector for.");
            return 1;
        }

        using var sender = new HttpSender(endpoint, options.WriteKey, options.ConnectTimeout, options.TimeProvider, options.HttpHandlerFactory);
        using var timeout = new CancellationTokenSource(RightsRequest.AccessTimeout);
        var answer = sender.Post(ProtocolConstants.AccessPath, RightsRequest.Body(Product, installId), timeout.Token);
        if (answer.Status == 200 && Indented(answer.Body) is { } json)
        {
            output.WriteLine(json);
            return 0;
        }

        error.WriteLine(answer switch
        {
            { Status: 0 } => $"The collector at {endpoint} could not be reached: {answer.Failure}.",
            { Status: 200 } => "The collector's answer is not JSON.",
            { Status: 404 } when answer.ErrorCode == ErrorCodes.UnknownInstall => $"The collector holds nothing for install {installId:D}.",
            { Status: 410 } => $"The collector has forgotten install {installId:D}: it deleted what it held at your request and keeps nothing of it.",
            { Status: 429 } => "The collector is limiting how often it is asked: try again" +
                (answer.RetryAfter is { } wait ? $" in {Math.Ceiling(wait.TotalSeconds):0} s." : " later."),
            { Status: 401 } => $"The collector refused the request ({answer.Describe()}): the tool's write key is not accepted.",
            _ => $"The collector could not answer: {answer.Describe()}.",
        });
        return 1;
    }

    /// <summary><c>show --schema</c>: every event of the catalog with its properties.</summary>
    public int ShowSchema(TextWriter output)
    {
        output.Write(CatalogText.Schema(options.Catalog, Product));
        return 0;
    }

    /// <summary><c>status</c>'s lines about the collector: the privacy page and any deletion not yet confirmed.</summary>
    public void Status(TextWriter output)
    {
        if (options.Endpoint is { } endpoint)
        {
            output.WriteLine($"Privacy page:    {RightsRequest.PrivacyPage(endpoint, Product)}");
        }

        foreach (var pending in PendingForgets.Read(StateDirectory))
        {
            output.WriteLine($"Deletion on the collector: requested {Utc(pending.RequestedAt)}, not yet confirmed (install id {pending.InstallId:D})");
            if (pending.LastRefusal is { } refusal)
            {
                output.WriteLine($"  last refused {(pending.RefusedAt is { } at ? Utc(at) : "")}: {refusal}");
            }
        }
    }

    private static string Confirmation(Guid installId, RightsAnswer answer)
    {
        if (answer.Status != 200)
        {
            return $"The collector held nothing for install {installId:D}.";
        }

        var (status, events, quarantine) = answer.Forgotten();
        return status == "already_forgotten"
            ? $"The collector had already deleted what it held for install {installId:D}."
            : $"The collector deleted {events} events and {quarantine} quarantined events of install {installId:D}, and refuses any it receives later.";
    }

    private static string? Indented(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                document.WriteTo(writer);
            }

            return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Utc(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture);

    private static TimeSpan Shorter(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
