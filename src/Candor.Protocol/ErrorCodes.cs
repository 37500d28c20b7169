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
}
