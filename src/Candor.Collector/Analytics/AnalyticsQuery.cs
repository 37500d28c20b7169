namespace Candor.Collector.Analytics;

/// <summary>The period a time series is grouped by.</summary>
internal enum Interval
{
    Day,
    Week,
    Month,
}

/// <summary>
/// What every analytics question is asked about: one product, a date range (from inclusive, to
/// exclusive, UTC) and optional filters. Values only ever reach SQL as parameters.
/// </summary>
internal sealed record AnalyticsQuery(
    string Product,
    DateTimeOffset From,
    DateTimeOffset To,
    string? Version = null,
    string? Os = null,
    bool? Ci = null,
    string? Country = null,
    string? Command = null)
{
    /// <summary>Reads the query from a request's query string: <c>product</c> (required),
    /// <c>from</c>/<c>to</c> (ISO dates; default the last 30 days, <c>to</c> inclusive by day),
    /// <c>version</c>, <c>os</c>, <c>ci</c> (<c>true</c>/<c>false</c>), <c>country</c>, <c>command</c>.</summary>
    public static (AnalyticsQuery? Query, string? Error) FromRequest(IQueryCollection query, TimeProvider time)
    {
        var product = query["product"].ToString();
        if (string.IsNullOrWhiteSpace(product))
        {
            return (null, "The 'product' query parameter is required.");
        }

        var today = time.GetUtcNow().UtcDateTime.Date;
        if (!TryDate(query["to"], today, out var toDay) || !TryDate(query["from"], toDay.AddDays(-29), out var fromDay))
        {
            return (null, "'from' and 'to' must be dates like 2026-11-23.");
        }

        if (fromDay > toDay)
        {
            return (null, "'from' must not be after 'to'.");
        }

        bool? ci = null;
        var ciText = query["ci"].ToString();
        if (ciText.Length > 0)
        {
            if (!bool.TryParse(ciText, out var parsed))
            {
                return (null, "'ci' must be true or false.");
            }

            ci = parsed;
        }

        return (new AnalyticsQuery(
            product,
            new DateTimeOffset(fromDay, TimeSpan.Zero),
            new DateTimeOffset(toDay.AddDays(1), TimeSpan.Zero),
            Blank(query["version"]),
            Blank(query["os"]),
            ci,
            Blank(query["country"]),
            Blank(query["command"])), null);
    }

    private static string? Blank(Microsoft.Extensions.Primitives.StringValues value) =>
        string.IsNullOrWhiteSpace(value.ToString()) ? null : value.ToString();

    private static bool TryDate(Microsoft.Extensions.Primitives.StringValues value, DateTime fallback, out DateTime date)
    {
        if (string.IsNullOrWhiteSpace(value.ToString()))
        {
            date = fallback;
            return true;
        }

        var ok = DateTime.TryParseExact(value.ToString(), "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out date);
        date = DateTime.SpecifyKind(date.Date, DateTimeKind.Utc);
        return ok;
    }
}
