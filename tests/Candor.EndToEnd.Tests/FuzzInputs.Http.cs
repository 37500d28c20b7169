using System.Globalization;
using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>The requests whose abuse is in their HTTP: bombs, odd headers, odd framing.</summary>
internal static partial class FuzzInputs
{
    private static FuzzRequest Bomb(Random random, string key) => random.Next(3) switch
    {
        0 => new FuzzRequest { Key = key, Description = "gzip bomb: '{\"events\":[' then 100 MiB of spaces", Body = WhitespaceBomb.Value, ContentEncoding = "gzip" },
        1 => new FuzzRequest { Key = key, Description = "gzip bomb: 9 MiB of '['", Body = BracketBomb.Value, ContentEncoding = "gzip" },
        _ => new FuzzRequest { Key = key, Description = "gzip bomb: 64 MiB of NUL bytes", Body = ZeroBomb.Value, ContentEncoding = "gzip" },
    };

    /// <summary>How the body travels: mostly gzip as clients send it, sometimes plain, sometimes broken gzip.</summary>
    private static FuzzRequest Transport(Random random, string key, byte[] json, string what, bool allowIdentity = true)
    {
        var roll = random.Next(100);
        if (!allowIdentity && roll is >= 60 and < 80)
        {
            roll = 0;
        }

        (string how, byte[] body, string? encoding) = roll switch
        {
            < 60 => ("gzip", Gzip(json), "gzip"),
            < 75 => ("plain", json, null),
            < 80 => ("plain, Content-Encoding: identity", json, "identity"),
            < 84 => FlippedGzip(random, json),
            < 88 => TruncatedGzip(random, json),
            < 91 => ("Content-Encoding: gzip on a plain body", json, "gzip"),
            < 93 => ("gzip twice", Gzip(Gzip(json)), "gzip"),
            < 95 => ("two gzip members", [.. Gzip(json[..(json.Length / 2)]), .. Gzip(json[(json.Length / 2)..])], "gzip"),
            < 97 => ("gzip then trailing garbage", [.. Gzip(json), .. Ascii("garbage")], "gzip"),
            _ => WrongCrc(json),
        };
        return new FuzzRequest { Key = key, Description = $"{what} [{how}, {json.Length:N0} bytes]", Body = body, ContentEncoding = encoding };

        static (string, byte[], string?) FlippedGzip(Random random, byte[] json)
        {
            var gzip = Gzip(json);
            if (gzip.Length < 18)
            {
                return ("gzip of an empty body (no gzip bytes at all)", gzip, "gzip");
            }

            var position = random.Next(gzip.Length);
            gzip[position] ^= (byte)random.Next(1, 256);
            return (string.Create(CultureInfo.InvariantCulture, $"gzip with byte {position} of {gzip.Length} changed"), gzip, "gzip");
        }

        static (string, byte[], string?) TruncatedGzip(Random random, byte[] json)
        {
            var gzip = Gzip(json);
            if (gzip.Length < 18)
            {
                return ("gzip of an empty body (no gzip bytes at all)", gzip, "gzip");
            }

            var length = random.Next(gzip.Length);
            return (string.Create(CultureInfo.InvariantCulture, $"gzip cut to {length} of {gzip.Length} bytes"), gzip[..length], "gzip");
        }

        static (string, byte[], string?) WrongCrc(byte[] json)
        {
            var gzip = Gzip(json);
            if (gzip.Length < 18)
            {
                return ("gzip of an empty body (no gzip bytes at all)", gzip, "gzip");
            }

            gzip[^8] ^= 0xFF;
            return ("gzip with a wrong CRC", gzip, "gzip");
        }
    }

    /// <summary>A valid gzipped batch with odd headers, method or path.</summary>
    private static FuzzRequest Headers(Random random, string key, byte[] json)
    {
        var gzip = Gzip(json);
        var request = new FuzzRequest { Key = key, Description = "", Body = gzip, ContentEncoding = "gzip" };
        string[] encodings = ["GZIP", "x-gzip", "gzip, gzip", "br", "deflate", "compress", "*", "gzip;q=1", " gzip ", "identity, gzip", "gzip, identity", "", string.Concat(Enumerable.Repeat("gzip,", 1600))];
        string[] types = ["text/plain", "application/json; charset=utf-16", "application/json; charset=latin1", "application/x-www-form-urlencoded", "multipart/form-data; boundary=zz", "*/*", "application/json; charset=\"", ""];
        string[] forwarded = ["999.999.1.1", "::1, 1.2.3.4", string.Concat(Enumerable.Repeat(", ", 2000)), "unknown", "1.2.3.4:80", "[::1]:80"];
        string[] paths = ["/v1/events/", "/V1/EVENTS", "/v1/events?product=%00", "/v1//events", "/v1/events/../events", "/v1/events?" + new string('a', 10_000)];
        HttpMethod[] methods = [HttpMethod.Put, HttpMethod.Get, HttpMethod.Delete, HttpMethod.Patch, HttpMethod.Options, HttpMethod.Head];
        switch (random.Next(10))
        {
            case 0:
            {
                var encoding = encodings[random.Next(encodings.Length)];
                return With(request, $"Content-Encoding: '{Short(encoding)}'", encoding: encoding);
            }

            case 1:
            {
                var type = types[random.Next(types.Length)];
                return With(request, $"Content-Type: '{type}'", type: type);
            }

            case 2:
                return With(request, "no Content-Type", type: null, dropType: true);
            case 3:
            {
                string?[] keys = [null, "", "wk_wrong", new string('k', 8192), CollectorProcess.WriteKey + " ", CollectorProcess.WriteKey.ToUpperInvariant(), CollectorProcess.WriteKey + ", " + CollectorProcess.WriteKey];
                var writeKey = keys[random.Next(keys.Length)];
                return With(request, writeKey is null ? "no write key" : $"write key '{Short(writeKey)}'", writeKey: writeKey, dropKey: writeKey is null);
            }

            case 4:
            {
                var value = forwarded[random.Next(forwarded.Length)];
                return With(request, $"X-Forwarded-For: '{Short(value)}'", headers: [new("X-Forwarded-For", value)]);
            }

            case 5:
                return With(request, "Expect: 100-continue", headers: [new("Expect", "100-continue")]);
            case 6:
                return With(request, "a 40 KB header", headers: [new("X-Junk", new string('j', 40_000))]);
            case 7:
            {
                var method = methods[random.Next(methods.Length)];
                return new FuzzRequest { Key = key, Description = $"{method} /v1/events with a valid batch", Method = method, Body = method == HttpMethod.Get || method == HttpMethod.Head ? [] : gzip, ContentEncoding = "gzip" };
            }

            case 8:
            {
                var path = paths[random.Next(paths.Length)];
                return new FuzzRequest { Key = key, Description = $"POST {Short(path)} with a valid batch", Path = path, Body = gzip, ContentEncoding = "gzip" };
            }

            default:
                return new FuzzRequest { Key = key, Description = "a valid batch, chunked by HttpClient", Body = gzip, ContentEncoding = "gzip", Chunked = true };
        }

        static FuzzRequest With(FuzzRequest r, string what, string? encoding = "gzip", string? type = "application/json", bool dropType = false, string? writeKey = CollectorProcess.WriteKey, bool dropKey = false, KeyValuePair<string, string>[]? headers = null) =>
            new()
            {
                Key = r.Key,
                Description = what + " on a valid gzipped batch",
                Body = r.Body,
                ContentEncoding = encoding,
                ContentType = dropType ? null : type,
                WriteKey = dropKey ? null : writeKey,
                Headers = headers ?? [],
            };
    }

    /// <summary>HTTP/1.1 framing written by hand: wrong Content-Length, odd chunking, bytes headers may not hold.</summary>
    private static FuzzRequest Raw(Random random, string key, byte[] json)
    {
        var gzip = random.Next(2) == 0;
        var body = gzip ? Gzip(json) : json;
        var encodingHeader = gzip ? "Content-Encoding: gzip\r\n" : "";
        string Head(string framing, string writeKey = CollectorProcess.WriteKey) =>
            $"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Candor-Write-Key: {writeKey}\r\nContent-Type: application/json\r\n{encodingHeader}{framing}\r\n";
        var length = body.Length.ToString(CultureInfo.InvariantCulture);
        var what = gzip ? "gzipped batch" : "plain batch";
        // Every request asks the server to close after its answer, which ends the read. A request that
        // is incomplete on purpose is followed by closing the sending half: Kestrel takes that as the
        // client going away and aborts the request unanswered, which exercises the abort paths.
        FuzzRequest Make(string description, IReadOnlyList<byte[]> parts, bool close = false, int readSeconds = 30) =>
            new() { Key = key, Description = $"raw HTTP: {description} ({what}, {body.Length:N0} bytes)", RawParts = parts, CloseSendingHalf = close, RawReadLimit = TimeSpan.FromSeconds(readSeconds) };

        switch (random.Next(12))
        {
            case 0:
            {
                long[] extra = [1, 100, 1_000_000, int.MaxValue];
                var more = extra[random.Next(extra.Length)];
                return Make($"Content-Length {more:N0} more than sent, then the sending half closed", [Ascii(Head($"Content-Length: {body.Length + more}\r\n")), body], close: true);
            }

            case 1:
            {
                var less = random.Next(1, body.Length);
                return Make($"Content-Length {less} less than sent (the rest reads as a next request)", [Ascii(Head($"Content-Length: {body.Length - less}\r\n")), body]);
            }

            case 2:
            {
                string[] values = ["-1", "abc", "1e3", " " + length + " ", "0x10", "99999999999999999999", "", length + "," + length, "+" + length];
                var value = values[random.Next(values.Length)];
                return Make($"Content-Length: '{value}'", [Ascii(Head($"Content-Length: {value}\r\n")), body]);
            }

            case 3:
                return random.Next(2) == 0
                    ? Make("two equal Content-Length headers", [Ascii(Head($"Content-Length: {length}\r\nContent-Length: {length}\r\n")), body])
                    : Make("two different Content-Length headers", [Ascii(Head($"Content-Length: {length}\r\nContent-Length: {body.Length / 2}\r\n")), body]);
            case 4:
                return Make("Content-Length and Transfer-Encoding: chunked", [Ascii(Head($"Content-Length: {length}\r\nTransfer-Encoding: chunked\r\n")), .. Chunks(body, 512, "x")]);
            case 5:
            {
                var size = random.Next(3) switch { 0 => 1, 1 => 7, _ => random.Next(1, 4096) };
                return Make($"chunked in {size}-byte chunks, each its own write", [Ascii(Head("Transfer-Encoding: chunked\r\n")), .. Chunks(body, size, "x")]);
            }

            case 6:
            {
                (string Label, string Format)[] sizes = [("upper-case hex", "X"), ("leading zeros", "X8"), ("chunk extensions", "x;name=value;x=\"q\"")];
                var (label, format) = sizes[random.Next(sizes.Length)];
                return Make($"chunked with {label}", [Ascii(Head("Transfer-Encoding: chunked\r\n")), .. Chunks(body, 64, format)]);
            }

            case 7:
            {
                var parts = Chunks(body, 256, "x");
                return random.Next(4) switch
                {
                    0 => Make("chunked without the last chunk, then the sending half closed", [Ascii(Head("Transfer-Encoding: chunked\r\n")), .. parts.Take(parts.Count - 1)], close: true),
                    1 => Make("chunked with a trailer", [Ascii(Head("Transfer-Encoding: chunked\r\n")), .. parts.Take(parts.Count - 1), Ascii("0\r\nX-Trailer: 1\r\n\r\n")]),
                    2 => Make("chunked, a chunk declared larger than sent, then the sending half closed", [Ascii(Head("Transfer-Encoding: chunked\r\n")), Ascii("FFFF\r\n"), body, Ascii("\r\n0\r\n\r\n")], close: true),
                    _ => Make("chunked, a chunk size that overflows", [Ascii(Head("Transfer-Encoding: chunked\r\n")), Ascii("FFFFFFFFFFFFFFFFFFFF\r\n"), body, Ascii("\r\n0\r\n\r\n")]),
                };
            }

            case 8:
            {
                string[] values = ["zz", " 10", "-1", "1 1"];
                var value = values[random.Next(values.Length)];
                return Make($"chunked, chunk size '{value}'", [Ascii(Head("Transfer-Encoding: chunked\r\n")), Ascii(value + "\r\n"), body, Ascii("\r\n0\r\n\r\n")]);
            }

            case 9:
            {
                string[] codings = ["Chunked", "chunked, identity", "gzip, chunked", "identity", "chunked, chunked", "x-unknown"];
                var coding = codings[random.Next(codings.Length)];
                return Make($"Transfer-Encoding: '{coding}'", [Ascii(Head($"Transfer-Encoding: {coding}\r\n")), .. Chunks(body, 300, "x")]);
            }

            case 10:
                return random.Next(6) switch
                {
                    0 => Make("bare LF line endings", [Ascii(Head($"Content-Length: {length}\r\n").Replace("\r\n", "\n", StringComparison.Ordinal)), body]),
                    1 => Make("write key with a 0xFF byte", [Replace(Ascii(Head($"Content-Length: {length}\r\n", "wk@")), Ascii("wk@"), [.. Ascii("wk_"), 0xFF]), body]),
                    2 => Make("write key with a NUL byte", [Replace(Ascii(Head($"Content-Length: {length}\r\n", "wk@")), Ascii("wk@"), [.. Ascii("wk_"), 0x00]), body]),
                    3 => Make("obsolete folded header line", [Ascii(Head($"Content-Length: {length}\r\nX-Folded: a\r\n b\r\n")), body]),
                    4 => Make("HTTP/1.0 without Content-Length (so without a body), then the batch", [Ascii(Head("").Replace("HTTP/1.1", "HTTP/1.0", StringComparison.Ordinal)), body]),
                    _ => Make("a 100 KB request target", [Ascii($"POST /v1/events?{new string('a', 100_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {length}\r\n\r\n"), body]),
                };
            default:
                // Rarely: a client that declares a body and stalls, without closing; the server must
                // time it out on its own (the read limit only bounds this client's wait).
                return random.Next(8) == 0
                    ? Make("Content-Length 1,000 more than sent, then silence", [Ascii(Head($"Content-Length: {body.Length + 1000}\r\n")), body], readSeconds: 20)
                    : Make("a valid request, written in one piece", [Ascii(Head($"Content-Length: {length}\r\n")), body]);
        }
    }

    private static List<byte[]> Chunks(byte[] body, int size, string format)
    {
        var parts = new List<byte[]>();
        var hexFormat = format.Split(';')[0];
        var extension = format.Contains(';', StringComparison.Ordinal) ? format[format.IndexOf(';', StringComparison.Ordinal)..] : "";
        for (var offset = 0; offset < body.Length; offset += size)
        {
            var count = Math.Min(size, body.Length - offset);
            parts.Add([.. Ascii(count.ToString(hexFormat, CultureInfo.InvariantCulture) + extension + "\r\n"), .. body.AsSpan(offset, count), .. "\r\n"u8]);
        }

        parts.Add(Ascii("0\r\n\r\n"));
        return parts;
    }
}
