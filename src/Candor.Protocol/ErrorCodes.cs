namespace Candor.Protocol;

/// <summary>The machine-readable codes the collector answers with.</summary>
public static class ErrorCodes
{
    /// <summary>No write key was given (401).</summary>
    public const string MissingWriteKey = "missing_write_key";

    /// <summary>The write key is not known, or not valid for the batch's product (401).</summary>
    public const string InvalidWriteKey = "invalid_write_key";

    /// <summary>No admin token, or a wrong one, on an admin endpoint (401).</summary>
    public const string InvalidAdminToken = "invalid_admin_token";

    /// <summary>The body is not a valid batch (400).</summary>
    public const string MalformedBody = "malformed_body";

    /// <summary>The body is not valid UTF-8 (400).</summary>
    public const string InvalidUtf8 = "invalid_utf8";

    /// <summary>The content encoding is not supported (415).</summary>
    public const string UnsupportedEncoding = "unsupported_encoding";

    /// <summary>The batch has no events (400).</summary>
    public const string EmptyBatch = "empty_batch";

    /// <summary>The compressed body is larger than allowed (413).</summary>
    public const string BodyTooLarge = "body_too_large";

    /// <summary>The decompressed body is larger than allowed (413).</summary>
    public const string DecompressedTooLarge = "decompressed_body_too_large";

    /// <summary>The batch holds more events than allowed (413).</summary>
    public const string TooManyEvents = "too_many_events";

    /// <summary>The collector is overloaded; retry after the <c>Retry-After</c> delay (429/503).</summary>
    public const string Overloaded = "overloaded";

    /// <summary>Too many requests from one client: ingest requests per write key and address, or
    /// failed admin-token checks per address. Retry after the <c>Retry-After</c> delay (429).</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>No endpoint at this path (404).</summary>
    public const string NotFound = "not_found";

    /// <summary>The path exists, but not for this HTTP method (405).</summary>
    public const string MethodNotAllowed = "method_not_allowed";

    /// <summary>The request could not be read as HTTP, e.g. a malformed chunked body (400, or the
    /// status the server chose).</summary>
    public const string BadRequest = "bad_request";

    /// <summary>The collector failed unexpectedly; the body's <c>request_id</c> finds the logged cause (500).</summary>
    public const string InternalError = "internal_error";

    /// <summary>The JSON nests deeper than allowed (400).</summary>
    public const string NestingTooDeep = "nesting_too_deep";

    /// <summary>A string in the batch context, or a property value, is longer than allowed
    /// (400 for the context; a per-event rejection for a property).</summary>
    public const string StringTooLong = "string_too_long";

    /// <summary>Every event of the batch was rejected; the per-event results say why (422).</summary>
    public const string NoValidEvents = "no_valid_events";

    /// <summary>The storage could not commit the batch; retry later (503).</summary>
    public const string StorageUnavailable = "storage_unavailable";

    /// <summary>A string of the batch context holds a character no store can keep (U+0000) (400);
    /// per event, the same in the name, version or a property.</summary>
    public const string InvalidText = "invalid_text";

    /// <summary>The product name is not 1 to 64 letters, digits, dots, dashes or underscores,
    /// starting with a letter or digit (400).</summary>
    public const string InvalidProduct = "invalid_product";

    /// <summary>The storage refused the batch's content although it passed validation (422); the
    /// batch is not stored and retrying it unchanged will not help. Other clients' batches are unaffected.</summary>
    public const string StorageRejected = "storage_rejected";

    /// <summary>The body was not received within the collector's deadline, or too slowly (408).</summary>
    public const string BodyTimeout = "body_timeout";

    /// <summary>Per event: a number property outside the range of a double (such as <c>1e400</c>).</summary>
    public const string NumberOutOfRange = "number_out_of_range";

    /// <summary>Per event: no id or no name.</summary>
    public const string InvalidEvent = "invalid_event";

    /// <summary>Per event: the collector knows no schema for the event's name and version.</summary>
    public const string UnknownSchema = "unknown_schema";

    /// <summary>Per event: a property the event's schema does not declare.</summary>
    public const string UndeclaredProperty = "undeclared_property";

    /// <summary>Per event: a property of the wrong type, out of its declared range, or a required
    /// property missing.</summary>
    public const string InvalidProperty = "invalid_property";

    /// <summary>Per event: the event's time, corrected for clock skew, is too far in the future.</summary>
    public const string TimeInFuture = "time_in_future";

    /// <summary>Per event: the event's time, corrected for clock skew, is older than the collector keeps.</summary>
    public const string TimeTooOld = "time_too_old";

    /// <summary>The batch's install was forgotten at its user's request: its events are not stored,
    /// now or later (410). A client drops them.</summary>
    public const string InstallForgotten = "install_forgotten";

    /// <summary>Forget or access named an install the collector holds nothing for (404); nothing was deleted.</summary>
    public const string UnknownInstall = "unknown_install";

    /// <summary>Forget or access without a product and an install id in UUID form (400).</summary>
    public const string InvalidInstallId = "invalid_install_id";

    /// <summary>A viewer token was presented where only the admin token is admitted (403).</summary>
    public const string AdminOnly = "admin_only";
}
