namespace Candor.Collector.Ingestion;

/// <summary>
/// What a product name may be. Names become metric labels, log fields, schema folders and dashboard
/// choices; a development write key accepts any product, so without a rule one client could mint
/// unbounded label values and folders.
/// </summary>
internal static class ProductName
{
    public const int MaxLength = 64;

    public const string Rule = "A product name is 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit.";

    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength || !char.IsAsciiLetterOrDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
