using System.Globalization;

namespace Candor.Collector.Schemas;

/// <summary>A SchemaVer version, <c>MODEL-REVISION-ADDITION</c> (e.g. <c>1-0-2</c>), ordered numerically.</summary>
internal readonly record struct SchemaVersion(int Model, int Revision, int Addition) : IComparable<SchemaVersion>
{
    public static bool TryParse(string? text, out SchemaVersion version)
    {
        // Spans, not Split: ingest parses the version of every event.
        version = default;
        var rest = text.AsSpan();
        if (!TakePart(ref rest, out var model) || model < 1 || !TakePart(ref rest, out var revision) || !TakePart(ref rest, out var addition) || rest.Length > 0 || text![^1] == '-')
        {
            return false;
        }

        version = new SchemaVersion(model, revision, addition);
        return true;
    }

    // The number before the next '-' (or the end), and the text after that '-'.
    private static bool TakePart(ref ReadOnlySpan<char> rest, out int value)
    {
        var dash = rest.IndexOf('-');
        var part = dash < 0 ? rest : rest[..dash];
        rest = dash < 0 ? [] : rest[(dash + 1)..];
        return int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    public int CompareTo(SchemaVersion other) =>
        Model != other.Model ? Model.CompareTo(other.Model)
        : Revision != other.Revision ? Revision.CompareTo(other.Revision)
        : Addition.CompareTo(other.Addition);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Model}-{Revision}-{Addition}");
}
