using System.Globalization;

namespace Candor.Collector.Schemas;

/// <summary>A SchemaVer version, <c>MODEL-REVISION-ADDITION</c> (e.g. <c>1-0-2</c>), ordered numerically.</summary>
internal readonly record struct SchemaVersion(int Model, int Revision, int Addition) : IComparable<SchemaVersion>
{
    public static bool TryParse(string? text, out SchemaVersion version)
    {
        version = default;
        var parts = text?.Split('-');
        if (parts is not { Length: 3 })
        {
            return false;
        }

        if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var model) || model < 1 ||
            !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var revision) ||
            !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var addition))
        {
            return false;
        }

        version = new SchemaVersion(model, revision, addition);
        return true;
    }

    public int CompareTo(SchemaVersion other) =>
        Model != other.Model ? Model.CompareTo(other.Model)
        : Revision != other.Revision ? Revision.CompareTo(other.Revision)
        : Addition.CompareTo(other.Addition);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Model}-{Revision}-{Addition}");
}
