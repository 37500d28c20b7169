using System.Text.Json;
using System.Text.Json.Serialization;
using Candor.Collector.Ingestion;
using Candor.Collector.Operations;
using Candor.Collector.Security;
using Candor.Collector.Storage;
using Candor.Protocol;

namespace Candor.Collector.DataRights;

/// <summary>
/// The end user's rights, asked for by their tool with the product's write key: <c>POST /v1/forget</c>
/// deletes everything held for an install and keeps a tombstone, <c>POST /v1/access</c> shows what is
/// held. The install id in the body is the capability (a random id only the install and the operator
/// know); the key only says the request comes from the product's clients. Every refusal happens before
/// the store is asked, so a bad request deletes and reveals nothing. docs/data-rights.md has the contract.
/// </summary>
internal static class DataRightsEndpoints
{
    /// <summary>A request names a product and an install id: a few dozen bytes. Anything much longer is
    /// not a request.</summary>
    public const int MaxBodyBytes = 4096;

    /// <summary>The most events, and the most quarantined events, one access answer holds.</summary>
    public const int MaxAccessRecords = 1000;

    public static void Map(IEndpointRouteBuilder endpoints, RateLimitOptions limits)
    {
        endpoints.MapPost(ProtocolConstants.ForgetPath, ForgetAsync).RequireDataRightsRateLimit(RateLimits.ForgetScope, limits);
        endpoints.MapPost(ProtocolConstants.AccessPath, AccessAsync).RequireDataRightsRateLimit(RateLimits.AccessScope, limits);
    }

    private static async Task<IResult> ForgetAsync(
        HttpContext http, Credentials credentials, IDataRights store, ForgottenInstalls forgotten, CollectorOptions options, TimeProvider time)
    {
        var (request, refusal) = await ReadRequestAsync(http, credentials, options, time);
        if (refusal is not null)
        {
            CollectorMetrics.ForgetRequests.WithLabels(CollectorMetrics.RefusedOutcome).Inc();
            return refusal;
        }

        var (product, installId) = request;
        // Not cancelled when the client goes away: the tombstone is already held in memory, and the
        // deletion it promises should finish rather than wait for the client's retry.
        var outcome = await store.ForgetAsync(product, installId, forgotten.Tombstone(product, installId), CancellationToken.None);
        var status = outcome.Status switch
        {
            ForgetStatus.Forgotten => "forgotten",
            ForgetStatus.AlreadyForgotten => "already_forgotten",
            _ => "unknown",
        };
        CollectorMetrics.ForgetRequests.WithLabels(status).Inc();
        return outcome.Status == ForgetStatus.Unknown
            ? UnknownInstall()
            : Results.Json(new ForgetResponse { Status = status, Events = outcome.Events, Quarantine = outcome.Quarantine },
                ProtocolJsonContext.Default.ForgetResponse);
    }

    private static async Task<IResult> AccessAsync(
        HttpContext http, Credentials credentials, IDataRights store, ForgottenInstalls forgotten, CollectorOptions options, TimeProvider time)
    {
        var (request, refusal) = await ReadRequestAsync(http, credentials, options, time);
        if (refusal is not null)
        {
            CollectorMetrics.AccessRequests.WithLabels(CollectorMetrics.RefusedOutcome).Inc();
            return refusal;
        }

        var (product, installId) = request;
        var records = forgotten.IsForgotten(product, installId)
            ? null
            : await store.ReadInstallAsync(product, installId, MaxAccessRecords, http.RequestAborted);
        if (records is null && !forgotten.IsForgotten(product, installId))
        {
            // Nothing held: perhaps another instance forgot it a moment ago and this one has not yet
            // taken its tombstone (TombstoneRefresher). Access is rare and rate-limited; look now.
            foreach (var tombstone in await store.ReadTombstonesAsync(http.RequestAborted))
            {
                forgotten.Add(tombstone);
            }
        }

        if (forgotten.IsForgotten(product, installId))
        {
            CollectorMetrics.AccessRequests.WithLabels("forgotten").Inc();
            return Refuse(StatusCodes.Status410Gone, ErrorCodes.InstallForgotten, "This install was forgotten: nothing of it is held.");
        }

        if (records is null)
        {
            CollectorMetrics.AccessRequests.WithLabels("unknown").Inc();
            return UnknownInstall();
        }

        CollectorMetrics.AccessRequests.WithLabels("answered").Inc();
        var answer = new AccessResponse
        {
            Product = product,
            InstallId = installId,
            Events = records.Events,
            Quarantine = records.Quarantine,
            Truncated = records.Truncated,
        };
        return Results.Json(answer, DataRightsJsonContext.Default.AccessResponse);
    }

    /// <summary>The request, checked in the ingest's order: a write key at all, then a body within its
    /// bound, then JSON naming a valid product the key may speak for and an install id.</summary>
    private static async Task<((string Product, Guid InstallId) Request, IResult? Refusal)> ReadRequestAsync(
        HttpContext http, Credentials credentials, CollectorOptions options, TimeProvider time)
    {
        var key = http.Request.Headers[ProtocolConstants.WriteKeyHeader].ToString();
        if (key.Length == 0)
        {
            return (default, Refuse(StatusCodes.Status401Unauthorized, ErrorCodes.MissingWriteKey, $"Send the product's write key in the {ProtocolConstants.WriteKeyHeader} header."));
        }

        if (!credentials.IsKnownWriteKey(key))
        {
            return (default, Refuse(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidWriteKey, "The write key is not valid."));
        }

        InstallRequest? request;
        using (var body = await RequestBody.ReadAsync(
            http.Request, MaxBodyBytes, MaxBodyBytes, options.MaxBodyReadTime, options.MinBodyBytesPerSecond, time, http.RequestAborted))
        {
            if (body.Error is { } error)
            {
                return (default, error.ToResult(http));
            }

            try
            {
                request = JsonSerializer.Deserialize(body.Bytes.Span, ProtocolJsonContext.Default.InstallRequest);
            }
            catch (JsonException)
            {
                request = null;
            }
        }

        if (request is null)
        {
            return (default, Refuse(StatusCodes.Status400BadRequest, ErrorCodes.MalformedBody,
                """The body must be JSON: {"product": "...", "install_id": "<uuid>"}."""));
        }

        if (!ProductName.IsValid(request.Product))
        {
            return (default, Refuse(StatusCodes.Status400BadRequest, ErrorCodes.InvalidProduct, ProductName.Rule));
        }

        if (credentials.CheckWriteKey(key, request.Product) != WriteKeyCheck.Valid)
        {
            return (default, Refuse(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidWriteKey, $"The write key is not valid for product '{request.Product}'."));
        }

        // The form the SDK writes; the empty id names no install.
        if (!Guid.TryParseExact(request.InstallId, "D", out var installId) || installId == Guid.Empty)
        {
            return (default, Refuse(StatusCodes.Status400BadRequest, ErrorCodes.InvalidInstallId,
                "install_id must be the install's id as a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)."));
        }

        return ((request.Product, installId), null);
    }

    private static IResult UnknownInstall() =>
        Refuse(StatusCodes.Status404NotFound, ErrorCodes.UnknownInstall, "Nothing is held for this install of this product, and it was never forgotten.");

    private static IResult Refuse(int status, string code, string message) =>
        Results.Json(new ErrorResponse { Code = code, Message = message }, ProtocolJsonContext.Default.ErrorResponse, statusCode: status);
}

/// <summary>The answer to an access request: what is held for the install, newest first, events as
/// the admin API shows them.</summary>
internal sealed class AccessResponse
{
    public required string Product { get; init; }

    public required Guid InstallId { get; init; }

    public required IReadOnlyList<StoredEvent> Events { get; init; }

    public required IReadOnlyList<QuarantineRecord> Quarantine { get; init; }

    /// <summary>Whether more was held than <see cref="DataRightsEndpoints.MaxAccessRecords"/> of either.</summary>
    public required bool Truncated { get; init; }
}

/// <summary>The access answer's JSON, with the options of <see cref="CollectorJsonContext"/>, so events
/// read as they do in the admin API.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AccessResponse))]
internal sealed partial class DataRightsJsonContext : JsonSerializerContext;
