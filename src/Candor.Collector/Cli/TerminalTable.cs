using System.Globalization;

namespace Candor.Collector.Cli;

/// <summary>Prints rows as an aligned plain-text table (numbers right-aligned).</summary>
internal static class TerminalTable
{
    public static void Write(TextWriter output, string title, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<object?>> rows)
    {
        var cells = rows.Select(r => r.Select(Format).ToArray()).ToList();
        var numeric = headers.Select((_, i) => cells.Count > 0 && cells.All(r => r[i].Length == 0 || IsNumber(r[i]))).ToArray();
        var widths = headers.Select((h, i) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(r => r[i].Length))).ToArray();

        output.WriteLine(title);
        output.WriteLine("  " + string.Join("  ", headers.Select((h, i) => Pad(h, widths[i], numeric[i]))));
        output.WriteLine("  " + string.Join("  ", widths.Select(w => new string('-', w))));
        if (cells.Count == 0)
        {
            output.WriteLine("  (none)");
        }

        foreach (var row in cells)
        {
            output.WriteLine("  " + string.Join("  ", row.Select((c, i) => Pad(c, widths[i], numeric[i]))));
        }

        output.WriteLine();
    }

    private static string Pad(string text, int width, bool right) => right ? text.PadLeft(width) : text.PadRight(width);

    private static bool IsNumber(string text) =>
        double.TryParse(text.TrimEnd('%'), NumberStyles.Float | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out _);

    private static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("0.##", CultureInfo.InvariantCulture),
        long l => l.ToString("N0", CultureInfo.InvariantCulture),
        int i => i.ToString("N0", CultureInfo.InvariantCulture),
        DateTimeOffset t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public static string Percent(double? share) =>
        share is null ? "" : (share.Value * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
}
