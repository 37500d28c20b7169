namespace Candor.Collector.Storage;

/// <summary>What <c>candor export</c> asks for: the stored events of a date range (UTC days, both
/// inclusive; null for open ends), of one product or all, written to a Parquet or CSV file.</summary>
internal sealed record EventExport(string TargetPath, bool Parquet, string? Product, DateOnly? From, DateOnly? To);

/// <summary>The engine could not write the export; the message is the engine's first line.</summary>
internal sealed class ExportFailedException(string message, Exception inner) : Exception(message, inner);
