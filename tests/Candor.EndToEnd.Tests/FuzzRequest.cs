using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>
/// One abusive request. It is either sent through <see cref="HttpClient"/> (a well-formed HTTP request
/// with odd headers and an odd body) or, when <see cref="RawParts"/> is set, written byte by byte on a
/// socket (framing HttpClient refuses to produce).
/// </summary>
internal sealed class FuzzRequest
{
    /// <summary>"client/number": with the seed, what makes this request again.</summary>
    public required string Key { get; init; }

    /// <summary>One line saying what was done to the request.</summary>
    public required string Description { get; init; }

    public byte[] Body { get; init; } = [];

    public HttpMethod Method { get; init; } = HttpMethod.Post;

    public string Path { get; init; } = "/v1/events";

    public string? ContentEncoding { get; init; }

    public string? ContentType { get; init; } = "application/json";

    public string? WriteKey { get; init; } = CollectorProcess.WriteKey;

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    public bool Chunked { get; init; }

    public IReadOnlyList<byte[]>? RawParts { get; init; }

    public bool CloseSendingHalf { get; init; } = true;

    public TimeSpan RawReadLimit { get; init; } = TimeSpan.FromSeconds(30);
}
