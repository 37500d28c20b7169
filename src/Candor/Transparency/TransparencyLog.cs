using System.Text;
using Candor.Diagnostics;
using Candor.Delivery;
using Candor.Protocol;

namespace Candor.Transparency;

/// <summary>
/// The user's own record of what the tool recorded or sent: <c>transparency.jsonl</c> in the state
/// directory, one event per line in the wire format, the last <c>capacity</c> events kept.
/// <c>&lt;tool&gt; telemetry show</c> prints it. Rewritten through a temporary file and a rename, so a
/// reader never sees a half-written file.
/// </summary>
internal sealed class TransparencyLog(string path, int capacity)
{
    public const string FileName = "transparency.jsonl";

    public string Path { get; } = path;

    /// <summary>Appends events, dropping the oldest beyond the capacity. Never throws.</summary>
    public void Append(IEnumerable<TelemetryEvent> events)
    {
        if (capacity <= 0)
        {
            return;
        }

        try
        {
            var lines = new List<string>();
            if (File.Exists(Path))
            {
                lines.AddRange(File.ReadAllLines(Path).Where(l => l.Length > 0));
            }

            foreach (var telemetryEvent in events)
            {
                lines.Add(Encoding.UTF8.GetString(WireJson.SerializeEvent(telemetryEvent)));
            }

            var kept = lines.Skip(Math.Max(0, lines.Count - capacity));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            var temporary = Path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            File.WriteAllLines(temporary, kept, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            File.Move(temporary, Path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            CandorEventSource.Log.DeliveryFailed("transparency log not writable: " + ex.GetType().Name);
        }
    }
}
