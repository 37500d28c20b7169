using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Candor.EndToEnd.Tests;

/// <summary>
/// Makes abusive requests for <c>POST /v1/events</c> from a seed: each request is a function of
/// (seed, client, number) alone, so a failure printed with its key can be made again with the same seed
/// (event times are relative to the clock, everything else is the same). The mutations start from a
/// valid acme batch and break it in the ways a buggy or hostile client could: wrong types, extreme
/// numbers and times, huge strings in every field, NUL, lone surrogates and invalid UTF-8, odd shapes,
/// byte flips, truncations, bad and bombing gzip, odd headers and odd HTTP framing.
/// </summary>
internal static partial class FuzzInputs
{
    /// <summary>The context's free-text fields.</summary>
    public static readonly string[] FreeTextContextFields =
        ["product_version", "initial_version", "sdk_version", "runtime_version", "os_family", "os_version", "kernel_release", "architecture", "ci_name", "project_id", "user_id"];

    /// <summary>Those analytics groups by: at most <see cref="MaxDimensionBytes"/> bytes of UTF-8 each (docs/protocol.md).</summary>
    public static readonly string[] DimensionFields =
        ["product_version", "initial_version", "runtime_version", "os_family", "os_version", "architecture", "ci_name"];

    public const int MaxDimensionBytes = 200;

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
                // Valid by the protocol: every free-text context field at its limit (1,024 characters; 200
                // bytes for those analytics groups by), of text that does not compress (so a store's
                // index cannot shrink it).
                var root = Base(seed, client, number, now);
                var context = (JsonObject)root["context"]!;
                foreach (var field in FreeTextContextFields)
                {
                    context[field] = Convert.ToBase64String(RandomBytes(random, DimensionFields.Contains(field) ? MaxDimensionBytes / 4 * 3 : 768));
                }

                what = "every context string at its limit (1,024 or 200 random characters), otherwise valid";
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
