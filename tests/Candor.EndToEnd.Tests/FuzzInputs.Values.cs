using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Candor.EndToEnd.Tests;

/// <summary>Valid batches with one value replaced: wrong types, extreme numbers and times, huge and odd strings, deep nesting.</summary>
internal static partial class FuzzInputs
{
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
}
