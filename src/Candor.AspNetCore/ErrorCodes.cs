using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Candor.AspNetCore;

/// <summary>Stable error codes, never messages: the same rules as the client SDK's <c>TrackError</c>
/// (a socket error's name, <c>http_&lt;status&gt;</c>, a Win32 code, <c>canceled</c>, else the HRESULT),
/// and the codes of problem responses.</summary>
internal static class ErrorCodes
{
    /// <summary>The longest code recorded (the event's schema allows 100 characters).</summary>
    public const int MaxCodeLength = 100;

    private static readonly string?[] StatusCodes = new string?[600];

    /// <summary>The code of <paramref name="exception"/>: a bad request's status, else what the SDK's
    /// <c>TrackError</c> records (<see cref="CandorClient.ErrorCodeOf"/>).</summary>
    public static string Of(Exception exception) => exception switch
    {
        BadHttpRequestException badRequest => OfStatus(badRequest.StatusCode),
        _ => CandorClient.ErrorCodeOf(exception),
    };

    /// <summary><c>http_&lt;status&gt;</c>, made once per status.</summary>
    public static string OfStatus(int status)
    {
        if ((uint)status >= StatusCodes.Length)
        {
            return "http_" + status.ToString(CultureInfo.InvariantCulture);
        }

        return StatusCodes[status] ??= "http_" + status.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The code of a problem response: its <c>code</c> extension when it is a token, else its
    /// <c>type</c> when that is a short token rather than a URI, else <c>http_&lt;status&gt;</c>.</summary>
    public static string OfProblem(object? codeExtension, string? type, int status)
    {
        var code = codeExtension switch
        {
            string text => text,
            System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.String } json => json.GetString(),
            _ => null,
        };
        return Token(code, MaxCodeLength) ?? Token(type, 64) ?? OfStatus(status);
    }

    /// <summary><paramref name="value"/> lower-cased when it is 1 to <paramref name="maxLength"/> characters
    /// of <c>[A-Za-z0-9._-]</c>; otherwise null (a URI, a sentence or anything else is not a code).</summary>
    internal static string? Token(string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value) || value.Length > maxLength)
        {
            return null;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return null;
            }
        }

        return value.ToLowerInvariant();
    }
}
