using System.Globalization;
using System.Text.Json;
using Candor.Protocol;

namespace Candor.Rights;

/// <summary>What a forget or access request led to, as far as the user is concerned.</summary>
internal enum ForgetOutcome
{
    /// <summary>The collector holds nothing of the install any more: it deleted it now or earlier (200), or
    /// never held anything (404 <c>unknown_install</c>). The pending request is done.</summary>
    Confirmed,

    /// <summary>A transient failure (no connection, timeout, 408, 429, 5xx): ask again on a later run.</summary>
    Retry,

    /// <summary>The collector refused the request (401, another 4xx, or a 404 that is not <c>unknown_install</c>,
    /// e.g. a collector without the endpoint): kept, asked again later, and shown by <c>telemetry status</c>.</summary>
    Refused,
}

/// <summary>
/// One answer of the collector to a forget or access request: its status (0 when no answer came),
/// body, <c>Retry-After</c>, or why nothing came back. Never holds more than <see cref="MaxBodyBytes"/>.
/// </summary>
internal sealed record RightsAnswer(int Status, string Body, TimeSpan? RetryAfter, string? Failure)
{
    /// <summary>The most of an answer the client reads: an access answer is capped by the collector
    /// (<c>truncated</c>), and anything larger is not an answer of Candor's.</summary>
    public const int MaxBodyBytes = 16 * 1024 * 1024;

    public static RightsAnswer Failed(string failure) => new(0, "", null, failure);

    /// <summary>The <see cref="ErrorResponse"/> code of an error answer, or <see langword="null"/>.</summary>
    public string? ErrorCode => Field("code");

    /// <summary>The <see cref="ErrorResponse"/> message of an error answer, or <see langword="null"/>.</summary>
    public string? ErrorMessage => Field("message");

    public ForgetOutcome ForgetOutcome => Status switch
    {
        200 => ForgetOutcome.Confirmed,
        404 when ErrorCode == ErrorCodes.UnknownInstall => ForgetOutcome.Confirmed,
        0 or 408 or 429 or >= 500 => ForgetOutcome.Retry,
        _ => ForgetOutcome.Refused,
    };

    /// <summary>The counts of a 200 forget answer (<see cref="ForgetResponse"/>); zeros when absent.</summary>
    public (string Status, long Events, long Quarantine) Forgotten()
    {
        var status = Field("status") ?? "";
        return (status, Number("events"), Number("quarantine"));
    }

    /// <summary>How the answer reads in one line: <c>401 invalid_write_key: The write key is not valid.</c>,
    /// <c>503</c>, or the failure.</summary>
    public string Describe()
    {
        if (Status == 0)
        {
            return Failure ?? "no answer";
        }

        var text = Status.ToString(CultureInfo.InvariantCulture);
        if (ErrorCode is { Length: > 0 } code)
        {
            text += " " + code;
        }

        if (ErrorMessage is { Length: > 0 } message)
        {
            text += ": " + (message.Length > 200 ? message[..200] + "…" : message);
        }

        return text;
    }

    private string? Field(string name)
    {
        var element = Root(name);
        return element is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;
    }

    private long Number(string name)
    {
        var element = Root(name);
        return element is { ValueKind: JsonValueKind.Number } value && value.TryGetInt64(out var number) ? number : 0;
    }

    private JsonElement? Root(string name)
    {
        if (Body.Length == 0 || Body[0] != '{')
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(Body);
            return document.RootElement.TryGetProperty(name, out var value) ? value.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
