using System.Text.Json;
using Candor.Protocol;

namespace Candor.Collector.Ingestion;

/// <summary>
/// One pass of the JSON reader over a large body before it is deserialized, refusing what no valid
/// batch holds: nesting deeper than the limit, or a string far longer than any field may be. The
/// reader builds no objects, so a body of megabyte-long strings costs a scan instead of the strings
/// (each twice its UTF-8 size) and the event objects around them. A string only somewhat over the
/// limit passes here and is refused per event or per batch as before, with the event quarantined.
/// </summary>
internal static class JsonPrescan
{
    /// <summary>Smaller bodies are deserialized at once: they cannot hold much, and ingest of ordinary
    /// batches (a few kilobytes) pays nothing for the scan.</summary>
    public const int MinBodyBytes = 64 * 1024;

    /// <summary>How many times the longest allowed string a token may span before the whole batch is
    /// refused: an escaped character takes at most 6 bytes (<c>\u0000</c>), so 8 times is always over.</summary>
    private const int LengthFactor = 8;

    public readonly record struct Problem(string Code, string Message);

    public static Problem? Check(ReadOnlySpan<byte> json, int maxDepth, int maxStringLength)
    {
        var longest = (long)maxStringLength * LengthFactor;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName or JsonTokenType.Number &&
                    (reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length) > longest)
                {
                    return new Problem(ErrorCodes.StringTooLong,
                        $"The batch holds a value of {(reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length)} bytes; no field may be longer than {maxStringLength} characters.");
                }
            }
        }
        catch (JsonException) when (reader.CurrentDepth >= maxDepth)
        {
            return new Problem(ErrorCodes.NestingTooDeep, $"The JSON may nest at most {maxDepth} levels deep.");
        }
        catch (JsonException)
        {
            // Malformed: the deserializer names the position.
        }

        return null;
    }
}
