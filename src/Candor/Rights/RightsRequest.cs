using System.Text.Json;
using Candor.Protocol;

namespace Candor.Rights;

/// <summary>The body of a forget or access request (<see cref="InstallRequest"/>), written with a plain
/// <see cref="Utf8JsonWriter"/> like the batches (see <c>WireJson</c>): the serializer's metadata is
/// never built for two strings.</summary>
internal static class RightsRequest
{
    /// <summary>How long <c>telemetry forget</c> waits for the collector: the user is at the terminal,
    /// and an unanswered request is kept and sent again by later runs anyway.</summary>
    public static readonly TimeSpan ForgetTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long <c>telemetry show --server</c> waits: the user asked for the answer and waits for it.</summary>
    public static readonly TimeSpan AccessTimeout = TimeSpan.FromSeconds(30);

    public static byte[] Body(string product, Guid installId)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("product", product);
            json.WriteString("install_id", installId.ToString("D"));
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The collector's public privacy page for <paramref name="product"/>: <c>&lt;endpoint origin&gt;/privacy/&lt;product&gt;</c>
    /// (absolute, like the protocol's paths).</summary>
    public static Uri PrivacyPage(Uri endpoint, string product) => new(endpoint, "/privacy/" + product);
}
