using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
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

/// <summary>
/// Makes abusive requests for <c>POST /v1/events</c> from a seed: each request is a function of
/// (seed, client, number) alone, so a failure printed with its key can be made again with the same seed
/// (event times are relative to the clock, everything else is the same). The mutations start from a
/// valid acme batch and break it in the ways a buggy or hostile client could: wrong types, extreme
/// numbers and times, huge strings in every field, NUL, lone surrogates and invalid UTF-8, odd shapes,
/// byte flips, truncations, bad and bombing gzip, odd headers and odd HTTP framing.
/// </summary>
internal static class FuzzInputs
{
    private const string ValuePlaceholder = "@@FUZZ{0}@@";
    private const string KeyPlaceholder = "@@FUZZKEY{0}@@";

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Where a literal can go; "events[i]" is an event picked at random, "{key}" a new key.</summary>
    private static readonly string[] Targets =
    [
        "sent_at", "context", "events", "{key}",
        "context.product", "context.product_version", "context.initial_version", "context.sdk_version", "context.runtime_version",
        "context.os_family", "context.os_version", "context.kernel_release", "context.architecture", "context.ci", "context.ci_name",
        "context.session_id", "context.install_id", "context.project_id", "context.user_id", "context.{key}",
        "events[i]", "events[i].id", "events[i].name", "events[i].version", "events[i].time", "events[i].properties", "events[i].{key}",
        "events[i].properties.command", "events[i].properties.exit_code", "events[i].properties.duration_ms", "events[i].properties.{key}",
    ];

    private static readonly string[] WrongTypes =
        ["null", "true", "false", "0", "-1", "1.5", "\"\"", "\" \"", "\"x\"", "[]", "{}", "[null]", "{\"a\":null}", "[1,\"2\",{}]", "{\"\":\"\"}", "[[[]]]"];

    private static readonly string[] Numbers =
    [
        "1e400", "-1e400", "1e-400", "-1e-400", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "-9223372036854775809", "18446744073709551616", "1.7976931348623157e308", "1.7976931348623159e308", "5e-324", "-0", "-0.0",
        "1E+2", "2.5e3", "1e18", "1e19", "-1e19", "123456789012345678901234567890", new string('9', 5000), "0." + new string('0', 5000) + "1",
        "1" + new string('0', 400) + ".5", "NaN", "-NaN", "Infinity", "-Infinity", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"1e400\"",
        "\"9223372036854775808\"", "01", "+1", ".5", "1.", "0x1F", "1e", "--1", "1_000", "١",
    ];

    /// <summary>Strings a client should never send and a collector must survive: NUL, lone and reversed
    /// surrogates (escaped), raw bytes that are not UTF-8, raw control characters.</summary>
    private static readonly (string Label, byte[] Json)[] OddStrings =
    [
        ("NUL escaped", Ascii("\"\\u0000\"")),
        ("NUL inside", Ascii("\"run\\u0000x\"")),
        ("NUL raw byte", [(byte)'"', (byte)'a', 0x00, (byte)'b', (byte)'"']),
        ("lone high surrogate", Ascii("\"\\ud800\"")),
        ("lone low surrogate", Ascii("\"\\udfff\"")),
        ("reversed surrogates", Ascii("\"\\udc00\\ud800\"")),
        ("two high surrogates", Ascii("\"\\ud800\\ud800\"")),
        ("high surrogate then x", Ascii("\"\\ud800x\"")),
        ("surrogate at end of long string", Ascii("\"" + new string('a', 1000) + "\\ud83d\"")),
        ("valid pair", Ascii("\"\\ud83d\\ude00\"")),
        ("raw 0xFF", [(byte)'"', 0xFF, (byte)'"']),
        ("raw overlong NUL C0 80", [(byte)'"', 0xC0, 0x80, (byte)'"']),
        ("raw UTF-8 surrogate ED A0 80", [(byte)'"', 0xED, 0xA0, 0x80, (byte)'"']),
        ("raw beyond U+10FFFF", [(byte)'"', 0xF4, 0x90, 0x80, 0x80, (byte)'"']),
        ("raw 5-byte sequence", [(byte)'"', 0xF8, 0x88, 0x80, 0x80, 0x80, (byte)'"']),
        ("raw truncated sequence", [(byte)'"', 0xE2, 0x82, (byte)'"']),
        ("raw lone continuation", [(byte)'"', 0x80, (byte)'"']),
        ("raw control 0x01", [(byte)'"', 0x01, (byte)'"']),
        ("raw newline", Ascii("\"a\nb\"")),
        ("raw tab", Ascii("\"a\tb\"")),
        ("escaped controls", Ascii("\"\\b\\f\\n\\r\\t\\u001f\"")),
        ("bad escape", Ascii("\"\\x41\"")),
        ("short escape", Ascii("\"\\u12\"")),
        ("BOM and noncharacters", Ascii("\"\\ufeff\\uffff\\ufffe\"")),
        ("right-to-left override", Ascii("\"\\u202erun\"")),
        ("SQL", Ascii("\"'); DROP TABLE events;--\"")),
        ("format string", Ascii("\"%s%n{0}{{}}\"")),
        ("backslashes", Ascii("\"\\\\\\\\\"")),
        ("unterminated", Ascii("\"abc")),
        ("empty", Ascii("\"\"")),
    ];

    private static readonly Lazy<byte[]> WhitespaceBomb = new(() => Gzip([.. Ascii("{\"events\":["), .. Repeat((byte)' ', 100 * 1024 * 1024)], CompressionLevel.SmallestSize));
    private static readonly Lazy<byte[]> BracketBomb = new(() => Gzip(Repeat((byte)'[', 9 * 1024 * 1024), CompressionLevel.SmallestSize));
    private static readonly Lazy<byte[]> ZeroBomb = new(() => Gzip(Repeat(0, 64 * 1024 * 1024), CompressionLevel.SmallestSize));

    /// <summary>The request (client, number) of a seed; <paramref name="now"/>, the clock event times are
    /// made from, is the present unless a test fixes it.</summary>
    public static FuzzRequest Create(int seed, int client, long number, DateTimeOffset? now = null)
    {
        var random = new Random(Mix(seed, client, number, 0));
        var key = string.Create(CultureInfo.InvariantCulture, $"{client}/{number}");
        var clock = now ?? DateTimeOffset.UtcNow;
        var roll = random.Next(100);
        return roll switch
        {
            < 12 => Transport(random, key, Valid(seed, client, number, random, clock, out var what), what),
            < 45 => Transport(random, key, Substituted(seed, client, number, random, clock, out var what), what),
            < 52 => Transport(random, key, Flipped(Serialize(Base(seed, client, number, clock)), random, out var what), what),
            < 56 => Transport(random, key, Truncated(Serialize(Base(seed, client, number, clock)), random, out var what), what),
            < 66 => Transport(random, key, Shape(seed, client, number, random, clock, out var what), what),
            < 69 => Bomb(random, key),
            < 71 => Transport(random, key, Big(seed, client, number, random, clock, out var what), what, allowIdentity: false),
            < 84 => Headers(random, key, Serialize(Base(seed, client, number, clock))),
            _ => Raw(random, key, Serialize(Base(seed, client, number, clock))),
        };
    }

    /// <summary>A valid batch of a fuzz client, accepted when nothing else is wrong: ids from the
    /// seed, so replays make the same ids.</summary>
    public static JsonObject Base(int seed, int client, long number, DateTimeOffset now, int? events = null)
    {
        var random = new Random(Mix(seed, client, number, 1));
        var context = new JsonObject
        {
            ["product"] = "acme",
            ["product_version"] = "1.4.0",
            ["initial_version"] = "1.2.0",
            ["sdk_version"] = "0.1.0",
            ["runtime_version"] = "10.0.0",
            ["os_family"] = "linux",
            ["os_version"] = "Debian GNU/Linux 12 (bookworm)",
            ["kernel_release"] = "6.1.0",
            ["architecture"] = "x64",
            ["ci"] = false,
            ["ci_name"] = null,
            ["session_id"] = NewGuid(random).ToString(),
            ["install_id"] = NewGuid(random).ToString(),
            ["project_id"] = Convert.ToHexStringLower(RandomBytes(random, 32)),
            ["user_id"] = null,
        };
        var list = new JsonArray();
        var count = events ?? random.Next(1, 6);
        for (var i = 0; i < count; i++)
        {
            list.Add(new JsonObject
            {
                ["id"] = NewGuid(random).ToString(),
                ["name"] = "command",
                ["version"] = "1-0-0",
                ["time"] = Time(now.AddMilliseconds(-random.Next(0, 60_000))),
                ["properties"] = new JsonObject
                {
                    ["command"] = random.Next(3) switch { 0 => "run", 1 => "build", _ => "telemetry status" },
                    ["exit_code"] = random.Next(-1, 3),
                    ["duration_ms"] = random.Next(0, 100_000),
                },
            });
        }

        return new JsonObject { ["sent_at"] = Time(now), ["context"] = context, ["events"] = list };
    }

    public static byte[] Serialize(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString(Relaxed));

    public static byte[] Gzip(byte[] bytes, CompressionLevel level = CompressionLevel.Fastest)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, level))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }

    /// <summary>A deterministic seed for one request (HashCode is randomized per process, so not that).</summary>
    public static int Mix(int seed, int client, long number, int salt)
    {
        unchecked
        {
            var h = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL;
            h ^= (ulong)(uint)client * 0xC2B2AE3D27D4EB4FUL + (h << 6) + (h >> 2);
            h ^= (ulong)number * 0x165667B19E3779F9UL + (h << 6) + (h >> 2);
            h ^= (ulong)(uint)salt * 0x27D4EB2F165667C5UL + (h << 6) + (h >> 2);
            h ^= h >> 33;
            return (int)(h & 0x7FFFFFFF);
        }
    }

    public static byte[] Ascii(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Valid(int seed, int client, long number, Random random, DateTimeOffset now, out string what)
    {
        // Now and then the batch of one of the client's earlier requests again, as a client retrying
        // after a lost answer would: its events are already stored (duplicates) or come in now.
        if (number > 0 && random.Next(4) == 0)
        {
            var earlier = Math.Max(0, number - random.Next(1, 6));
            what = string.Create(CultureInfo.InvariantCulture, $"valid batch of request {client}/{earlier} again");
            return Serialize(Base(seed, client, earlier, now));
        }

        what = "valid batch";
        return Serialize(Base(seed, client, number, now));
    }

    private static byte[] Substituted(int seed, int client, long number, Random random, DateTimeOffset now, out string what)
    {
        var root = Base(seed, client, number, now);
        var substitutions = new List<(string Placeholder, byte[] Json)>();
        var said = new List<string>();
        if (random.Next(8) == 0)
        {
            // The clock pair: an extreme event time with an extreme sent_at, whose difference is the skew.
            var (timeLabel, timeJson) = TimeLiteral(random, now);
            var (sentLabel, sentJson) = TimeLiteral(random, now);
            var events = (JsonArray)root["events"]!;
            var index = random.Next(events.Count);
            Place(root, $"events[{index}].time", 0, key: false);
            Place(root, "sent_at", 1, key: false);
            substitutions.Add((Format(ValuePlaceholder, 0), timeJson));
            substitutions.Add((Format(ValuePlaceholder, 1), sentJson));
            said.Add($"events[{index}].time = {timeLabel}");
            said.Add($"sent_at = {sentLabel}");
        }
        else
        {
            var count = random.Next(1, 4);
            for (var n = 0; n < count; n++)
            {
                var target = Targets[random.Next(Targets.Length)];
                var eventCount = root["events"] is JsonArray events ? events.Count : 1;
                target = target.Replace("[i]", $"[{random.Next(eventCount)}]", StringComparison.Ordinal);
                var isKey = target.EndsWith("{key}", StringComparison.Ordinal);
                var (label, json) = Literal(random, now, target, isKey);
                if (!Place(root, target, n, isKey))
                {
                    continue; // an earlier substitution replaced the parent
                }

                substitutions.Add((Format(isKey ? KeyPlaceholder : ValuePlaceholder, n), json));
                said.Add(isKey ? $"new key {label} in {(target == "{key}" ? "the batch" : target[..^6])}" : $"{target} = {label}");
            }
        }

        var bytes = Serialize(root);
        var landed = new List<string>();
        for (var i = 0; i < substitutions.Count; i++)
        {
            var (placeholder, json) = substitutions[i];
            var replaced = Replace(bytes, Ascii("\"" + placeholder + "\""), json);
            if (!ReferenceEquals(replaced, bytes))
            {
                // A later substitution may have replaced this one's parent: say only what is in the body.
                landed.Add(said[i]);
            }

            bytes = replaced;
        }

        what = string.Join("; ", landed);
        return bytes;
    }

    /// <summary>Puts a placeholder at a path (or, for "{key}", a new key named by a placeholder).</summary>
    private static bool Place(JsonObject root, string target, int n, bool key)
    {
        var parts = target.Split('.');
        JsonNode? parent = root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            parent = Step(parent, parts[i]);
            if (parent is null)
            {
                return false;
            }
        }

        var last = parts[^1];
        if (key)
        {
            if (parent is not JsonObject container)
            {
                return false;
            }

            container[Format(KeyPlaceholder, n)] = "x";
            return true;
        }

        var value = JsonValue.Create(Format(ValuePlaceholder, n));
        if (last.EndsWith(']'))
        {
            var open = last.IndexOf('[', StringComparison.Ordinal);
            if (Step(parent, last[..open]) is JsonArray array)
            {
                array[int.Parse(last[(open + 1)..^1], CultureInfo.InvariantCulture)] = value;
                return true;
            }

            return false;
        }

        if (parent is JsonObject container2)
        {
            container2[last] = value;
            return true;
        }

        return false;
    }

    private static JsonNode? Step(JsonNode? node, string part)
    {
        var open = part.IndexOf('[', StringComparison.Ordinal);
        if (open < 0)
        {
            return node is JsonObject o && o.TryGetPropertyValue(part, out var child) ? child : null;
        }

        var array = node is JsonObject container && container.TryGetPropertyValue(part[..open], out var a) ? a as JsonArray : null;
        var index = int.Parse(part[(open + 1)..^1], CultureInfo.InvariantCulture);
        return array is not null && index < array.Count ? array[index] : null;
    }

    /// <summary>A literal for a target: time-like for times, id-like for ids, else any kind.</summary>
    private static (string Label, byte[] Json) Literal(Random random, DateTimeOffset now, string target, bool key)
    {
        if (key)
        {
            return random.Next(3) switch
            {
                0 => HugeString(random),
                1 => OddStrings[random.Next(OddStrings.Length)],
                _ => ("\"command\" (a second one)", Ascii("\"command\"")),
            };
        }

        var timeLike = target.EndsWith("time", StringComparison.Ordinal) || target == "sent_at";
        var idLike = target.EndsWith("id", StringComparison.Ordinal);
        if (timeLike && random.Next(10) < 6)
        {
            return TimeLiteral(random, now);
        }

        if (idLike && random.Next(10) < 5)
        {
            return IdLiteral(random);
        }

        return random.Next(100) switch
        {
            < 15 => Raw(WrongTypes[random.Next(WrongTypes.Length)]),
            < 35 => Raw(Numbers[random.Next(Numbers.Length)]),
            < 60 => OddStrings[random.Next(OddStrings.Length)],
            < 85 => HugeString(random),
            < 92 => Nesting(random),
            < 96 => TimeLiteral(random, now),
            _ => IdLiteral(random),
        };

        static (string, byte[]) Raw(string json) => (json.Length > 40 ? json[..20] + $"…({json.Length} chars)" : json, Ascii(json));
    }

    /// <summary>A string of a length around the limits, up to about a million characters (or six
    /// million bytes escaped, still under the 8 MB decompressed limit once gzipped).</summary>
    private static (string Label, byte[] Json) HugeString(Random random)
    {
        int[] lengths = [100, 101, 1023, 1024, 1025, 1100, 4096, 4097, 65_537, 300_000, 1_000_000];
        (string Name, string Unit)[] units = [("a", "a"), ("é", "é"), ("𝄞", "𝄞"), ("escaped é", "\\u00e9"), ("escaped quote", "\\\""), ("NUL", "\\u0000"), ("space", " ")];
        var length = lengths[random.Next(lengths.Length)];
        var (name, unit) = units[random.Next(units.Length)];
        var builder = new StringBuilder(length * unit.Length + 2).Append('"');
        builder.Insert(1, unit, length).Append('"');
        return (string.Create(CultureInfo.InvariantCulture, $"{length:N0} × '{name}'"), Encoding.UTF8.GetBytes(builder.ToString()));
    }

    private static (string Label, byte[] Json) Nesting(Random random)
    {
        int[] depths = [15, 16, 17, 64, 1000, 100_000, 1_000_000];
        var depth = depths[random.Next(depths.Length)];
        return random.Next(3) switch
        {
            0 => ($"{depth:N0} nested arrays", Ascii(new string('[', depth) + new string(']', depth))),
            1 => ($"{depth:N0} nested objects", Ascii(string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth))),
            _ => ($"{depth:N0} unclosed arrays", Ascii(new string('[', depth))),
        };
    }

    private static (string Label, byte[] Json) TimeLiteral(Random random, DateTimeOffset now)
    {
        string[] fixedTimes =
        [
            "9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59.9999999+00:00", "9999-12-31T23:59:59-14:00", "9999-12-31T10:00:00+14:00",
            "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00-14:00", "0001-01-01", "9999-12-31",
            "10000-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z",
            "2026-01-01T24:00:00Z", "2026-06-30T23:59:60Z", "2026-01-01T00:00:00+99:00", "2026-01-01T00:00:00", "2026-01-01 00:00:00Z",
            "", "now", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.9999999Z",
        ];
        var pick = random.Next(fixedTimes.Length + 9);
        if (pick < fixedTimes.Length)
        {
            return (fixedTimes[pick].Length == 0 ? "empty time" : fixedTimes[pick], Ascii("\"" + fixedTimes[pick] + "\""));
        }

        return (pick - fixedTimes.Length) switch
        {
            0 => Relative("now − 29 days", now.AddDays(-29)),
            1 => Relative("now − 31 days", now.AddDays(-31)),
            2 => Relative("now + 9 min", now.AddMinutes(9)),
            3 => Relative("now + 11 min", now.AddMinutes(11)),
            4 => ("now at +14:00", Ascii("\"" + now.ToOffset(TimeSpan.FromHours(14)).ToString("O", CultureInfo.InvariantCulture) + "\"")),
            5 => ("now with 60 fraction digits", Ascii("\"" + now.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) + "." + new string('9', 60) + "Z\"")),
            6 => ("epoch seconds as a number", Ascii(now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture))),
            7 => ("1e400 as time", Ascii("1e400")),
            _ => ("time as an object", Ascii("{\"time\":\"" + Time(now) + "\"}")),
        };

        static (string, byte[]) Relative(string label, DateTimeOffset time) => (label, Ascii("\"" + Time(time) + "\""));
    }

    private static (string Label, byte[] Json) IdLiteral(Random random)
    {
        var guid = NewGuid(random);
        (string, string)[] ids =
        [
            ("empty guid", "\"00000000-0000-0000-0000-000000000000\""), ("braced guid", $"\"{guid:B}\""), ("parenthesized guid", $"\"{guid:P}\""),
            ("upper-case guid", "\"" + guid.ToString().ToUpperInvariant() + "\""), ("guid without dashes", $"\"{guid:N}\""),
            ("guid with spaces", $"\" {guid} \""), ("guid then NUL", $"\"{guid}\\u0000\""), ("not a guid", "\"not-a-guid\""),
            ("guid as number", "123"), ("hex-object guid", $"\"{guid:X}\""), ("guid one digit short", "\"" + guid.ToString()[..^1] + "\""),
            ("ffffffff guid", "\"ffffffff-ffff-ffff-ffff-ffffffffffff\""),
        ];
        var (label, json) = ids[random.Next(ids.Length)];
        return (label, Ascii(json));
    }

    private static byte[] Flipped(byte[] json, Random random, out string what)
    {
        byte[] interesting = [0x00, 0xFF, 0x80, 0xC0, (byte)'"', (byte)'\\', (byte)'{', (byte)'}', (byte)'[', (byte)']', (byte)',', (byte)':', (byte)'-', (byte)'e'];
        var count = random.Next(1, 9);
        var positions = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var position = random.Next(json.Length);
            var value = random.Next(2) == 0 ? interesting[random.Next(interesting.Length)] : (byte)random.Next(256);
            positions.Add(string.Create(CultureInfo.InvariantCulture, $"{position}:{json[position]:X2}→{value:X2}"));
            json[position] = value;
        }

        what = $"{count} byte(s) of a valid batch changed ({string.Join(", ", positions)})";
        return json;
    }

    private static byte[] Truncated(byte[] json, Random random, out string what)
    {
        var length = random.Next(json.Length);
        what = string.Create(CultureInfo.InvariantCulture, $"valid batch cut to {length} of {json.Length} bytes");
        return json[..length];
    }

    /// <summary>Bodies whose whole shape is wrong.</summary>
    private static byte[] Shape(int seed, int client, long number, Random random, DateTimeOffset now, out string what)
    {
        var root = Base(seed, client, number, now);
        var json = Encoding.UTF8.GetString(Serialize(root));
        var firstEvent = ((JsonArray)root["events"]!)[0]!.ToJsonString(Relaxed);
        var eventsStart = json.IndexOf("\"events\":", StringComparison.Ordinal);
        string WithEvents(string events) => json[..eventsStart] + "\"events\":" + events + "}";
        (string, byte[])[] shapes =
        [
            ("\"events\":[null]", Ascii(WithEvents("[null]"))),
            ("\"events\":[null, valid event]", Ascii(WithEvents("[null," + firstEvent + "]"))),
            ("\"events\":[valid event, null]", Ascii(WithEvents("[" + firstEvent + ",null]"))),
            ("\"events\":null", Ascii(WithEvents("null"))),
            ("\"events\":{}", Ascii(WithEvents("{}"))),
            ("\"events\":[]", Ascii(WithEvents("[]"))),
            ("\"events\":[1,\"x\",true]", Ascii(WithEvents("[1,\"x\",true]"))),
            ("\"events\":[[]]", Ascii(WithEvents("[[]]"))),
            ("\"events\":[{}]", Ascii(WithEvents("[{}]"))),
            ("event with only an id", Ascii(WithEvents("[{\"id\":\"" + NewGuid(random) + "\"}]"))),
            ("event with \"properties\":null", Ascii(WithEvents("[" + firstEvent.Replace("\"properties\":{", "\"properties\":null,\"p\":{", StringComparison.Ordinal) + "]"))),
            ("\"context\":null", Ascii(json.Replace("\"context\":{", "\"context\":null,\"c\":{", StringComparison.Ordinal))),
            ("\"context\":{}", Ascii("{\"context\":{}," + json[(eventsStart)..])),
            ("no context", Ascii("{" + json[eventsStart..])),
            ("events twice, the second null", Ascii(json[..^1] + ",\"events\":null}")),
            ("context twice, the second for another product", Ascii(json[..^1] + ",\"context\":{\"product\":\"other\"}}")),
            ("id twice in an event", Ascii(WithEvents("[" + firstEvent[..^1] + ",\"id\":\"" + NewGuid(random) + "\"}]"))),
            ("the same event twice", Ascii(WithEvents("[" + firstEvent + "," + firstEvent + "]"))),
            ("empty body", []),
            ("null", Ascii("null")),
            ("[]", Ascii("[]")),
            ("{}", Ascii("{}")),
            ("0", Ascii("0")),
            ("a JSON string", Ascii("\"x\"")),
            ("the batch in an array", Ascii("[" + json + "]")),
            ("UTF-8 BOM then a valid batch", [0xEF, 0xBB, 0xBF, .. Ascii(json)]),
            ("a valid batch in UTF-16", Encoding.Unicode.GetBytes(json)),
            ("a valid batch in UTF-16 with BOM", [0xFF, 0xFE, .. Encoding.Unicode.GetBytes(json)]),
            ("a valid batch in UTF-32", Encoding.UTF32.GetBytes(json)),
            ("a valid batch then garbage", Ascii(json + "x")),
            ("a valid batch then NUL", [.. Ascii(json), 0x00]),
            ("two batches back to back", Ascii(json + json)),
            ("comments", Ascii("/* c */" + json + "// c")),
            ("trailing comma", Ascii(json[..^1] + ",}")),
            ("single quotes", Ascii(json.Replace('"', '\''))),
            ("NUL bytes only", new byte[1000]),
            ("0xFF bytes only", Repeat(0xFF, 1000)),
            ("property named \"\"", Ascii(WithEvents("[" + firstEvent.Replace("\"properties\":{", "\"properties\":{\"\":\"x\",", StringComparison.Ordinal) + "]"))),
        ];
        var (label, bytes) = shapes[random.Next(shapes.Length)];
        what = "shape: " + label;
        return bytes;
    }

    /// <summary>Large but honest bodies near the limits: they cost the collector real work.</summary>
    private static byte[] Big(int seed, int client, long number, Random random, DateTimeOffset now, out string what)
    {
        switch (random.Next(8))
        {
            case 7:
            {
                // Valid by the protocol: every free-text context field at the 1,024-character limit, of
                // text that does not compress (so a store's index cannot shrink it).
                var root = Base(seed, client, number, now);
                var context = (JsonObject)root["context"]!;
                foreach (var field in new[] { "product_version", "initial_version", "sdk_version", "runtime_version", "os_family", "os_version", "kernel_release", "architecture", "ci_name", "project_id", "user_id" })
                {
                    context[field] = Convert.ToBase64String(RandomBytes(random, 768));
                }

                what = "every context string at the limit (1,024 random characters), otherwise valid";
                return Serialize(root);
            }

            case 0:
                what = "1,000 valid events";
                return Serialize(Base(seed, client, number, now, events: 1000));
            case 1:
                what = "1,001 valid events";
                return Serialize(Base(seed, client, number, now, events: 1001));
            case 2:
            {
                var root = Base(seed, client, number, now, events: 1);
                var one = ((JsonArray)root["events"]!)[0]!;
                var events = new JsonArray();
                for (var i = 0; i < 1000; i++)
                {
                    events.Add(one.DeepClone());
                }

                root["events"] = events;
                what = "1,000 events with the same id";
                return Serialize(root);
            }

            case 3:
            {
                var root = Base(seed, client, number, now, events: 1);
                var properties = (JsonObject)((JsonArray)root["events"]!)[0]!["properties"]!;
                for (var i = 0; i < 100_000; i++)
                {
                    properties["p" + i.ToString(CultureInfo.InvariantCulture)] = i;
                }

                what = "one event with 100,000 properties";
                return Serialize(root);
            }

            case 4:
                what = "a valid batch padded with spaces to exactly 8 MiB";
                return Pad(Serialize(Base(seed, client, number, now)), 8 * 1024 * 1024);
            case 5:
                what = "a valid batch padded with spaces to 8 MiB + 1";
                return Pad(Serialize(Base(seed, client, number, now)), (8 * 1024 * 1024) + 1);
            default:
                what = "100,000 null events";
                return Ascii("{\"context\":{\"product\":\"acme\"},\"events\":[" + string.Join(',', Enumerable.Repeat("null", 100_000)) + "]}");
        }
    }

    private static byte[] Pad(byte[] json, int length)
    {
        var padded = Repeat((byte)' ', length);
        json.AsSpan(0, json.Length - 1).CopyTo(padded);
        padded[^1] = (byte)'}';
        return padded;
    }

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

    private static byte[] Replace(byte[] bytes, byte[] find, byte[] replacement)
    {
        var index = bytes.AsSpan().IndexOf(find);
        return index < 0 ? bytes : [.. bytes.AsSpan(0, index), .. replacement, .. bytes.AsSpan(index + find.Length)];
    }

    private static byte[] Repeat(byte value, int count)
    {
        var bytes = new byte[count];
        Array.Fill(bytes, value);
        return bytes;
    }

    private static string Time(DateTimeOffset time) => time.ToString("O", CultureInfo.InvariantCulture);

    private static string Format(string format, int n) => string.Format(CultureInfo.InvariantCulture, format, n);

    private static string Short(string text) => text.Length <= 40 ? text : string.Create(CultureInfo.InvariantCulture, $"{text[..20]}…({text.Length:N0} chars)");

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private static Guid NewGuid(Random random)
    {
        var bytes = RandomBytes(random, 16);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40); // version 4, so never the empty id
        return new Guid(bytes);
    }
}
