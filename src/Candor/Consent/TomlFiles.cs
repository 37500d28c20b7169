using System.Text;
using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Serialization;

namespace Candor.Consent;

/// <summary>Source-generated TOML metadata: the untyped table model, without reflection (trim/AOT safe).</summary>
[TomlSerializable(typeof(TomlTable))]
internal sealed partial class CandorTomlContext : TomlSerializerContext;

/// <summary>What reading a TOML file gave: nothing (missing), a table, or a problem in words.</summary>
internal readonly record struct TomlRead(bool Exists, IDictionary<string, object>? Table, string? Problem)
{
    public static TomlRead Missing => new(false, null, null);
}

/// <summary>Reads and atomically writes small TOML files. Never throws: failures come back in words.</summary>
internal static class TomlFiles
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // Settings files are a few lines; anything much larger is not ours.
    private const long MaxBytes = 64 * 1024;

    public static TomlRead Read(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return Directory.Exists(path) ? new TomlRead(true, null, "it is a directory, not a file") : TomlRead.Missing;
            }

            if (info.Length > MaxBytes)
            {
                return new TomlRead(true, null, $"it is {info.Length} bytes, more than a settings file can be ({MaxBytes})");
            }

            // Bytes then UTF-8: lighter at startup than a StreamReader, and the file is small.
            var text = StrictUtf8.GetString(File.ReadAllBytes(path));
            if (text.Length > 0 && text[0] == '\uFEFF')
            {
                text = text[1..];
            }

            // Tomlyn reads every file: a hand-written reader for the flat files Candor writes saved
            // nothing measurable in a Native AOT tool (bench/results/2026-12-07-settings-reader.md).
            return new TomlRead(true, TomlSerializer.Deserialize(text, CandorTomlContext.Default.TomlTable) ?? [], null);
        }
        catch (TomlException ex)
        {
            return new TomlRead(true, null, "it is not valid TOML: " + FirstLine(ex.Message));
        }
        catch (DecoderFallbackException)
        {
            return new TomlRead(true, null, "it is not UTF-8 text");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new TomlRead(true, null, "it cannot be read: " + ex.Message);
        }
    }

    /// <summary>Writes <paramref name="table"/> to a temporary file beside <paramref name="path"/>, then
    /// renames it over the old file, so a reader sees the old or the new file, never half of one.</summary>
    /// <returns>The problem in words, or <see langword="null"/> on success.</returns>
    public static string? WriteAtomically(string path, TomlTable table, string header)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var text = header + TomlSerializer.Serialize(table, CandorTomlContext.Default.TomlTable).TrimEnd() + "\n";
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(Encoding.UTF8.GetBytes(text));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or TomlException)
        {
            TryDelete(temporary);
            return $"'{path}' could not be written: {ex.Message}";
        }
    }

    /// <summary>A table Tomlyn can write, holding the same keys and values.</summary>
    public static TomlTable ToTable(IDictionary<string, object>? values)
    {
        if (values is TomlTable table)
        {
            return table;
        }

        table = [];
        foreach (var (key, value) in values ?? new Dictionary<string, object>())
        {
            table[key] = value;
        }

        return table;
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover temporary file is harmless.
        }
    }

    private static string FirstLine(string message)
    {
        // Tomlyn wraps the parser's message ("(1,5) : error : Unexpected token ...") in a converter message.
        var reason = message.LastIndexOf("Reason: ", StringComparison.Ordinal) is var at and >= 0 ? message[(at + 8)..] : message;
        var newline = reason.IndexOfAny(['\r', '\n']);
        return newline >= 0 ? reason[..newline] : reason;
    }
}
