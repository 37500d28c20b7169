using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Candor.TestSupport;

/// <summary>What came back on one raw connection: every answer's status, in order, and the first
/// answer's head and body; or why nothing came back.</summary>
internal sealed record RawHttpAnswer(IReadOnlyList<int> Statuses, string FirstHead, string FirstBody, string? Failure)
{
    /// <summary>The first answer's status, or <see langword="null"/> when there was none.</summary>
    public int? Status => Statuses.Count > 0 ? Statuses[0] : null;
}

/// <summary>
/// HTTP/1.1 written byte by byte on a plain socket, for requests <see cref="HttpClient"/> refuses to
/// send: a Content-Length that does not match the body, two Content-Lengths, odd chunking, bytes a
/// header may not hold. The answers are parsed just enough to find their statuses.
/// </summary>
internal static class RawHttp
{
    /// <summary>
    /// Sends <paramref name="parts"/> on a new connection, each in its own write (so chunk boundaries
    /// reach the server as separate segments), then closes the sending half unless told not to (a
    /// request that declared more than it sent is then finished from the server's point of view), and
    /// reads until the server closes the connection or <paramref name="readLimit"/> passes.
    /// </summary>
    public static async Task<RawHttpAnswer> ExchangeAsync(Uri server, IReadOnlyList<byte[]> parts, bool closeSendingHalf, TimeSpan readLimit)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var limit = new CancellationTokenSource(readLimit);
        try
        {
            await socket.ConnectAsync(server.Host, server.Port, limit.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return new RawHttpAnswer([], "", "", "connect failed: " + ex.Message);
        }

        string? sendFailure = null;
        try
        {
            foreach (var part in parts)
            {
                await socket.SendAsync(part, SocketFlags.None, limit.Token);
            }

            if (closeSendingHalf)
            {
                socket.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The server may answer early (413) and close before the body is through: still read what it said.
            sendFailure = "send failed: " + ex.Message;
        }

        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        string? readFailure = null;
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, limit.Token);
                if (read == 0)
                {
                    break;
                }

                received.Write(buffer, 0, read);
            }
        }
        catch (OperationCanceledException)
        {
            readFailure = $"no close within {readLimit.TotalSeconds:F0} s";
        }
        catch (SocketException ex)
        {
            readFailure = "read failed: " + ex.SocketErrorCode;
        }

        var answer = Parse(received.ToArray());
        return answer with
        {
            Failure = answer.Statuses.Count > 0 ? null : readFailure ?? sendFailure ?? (closeSendingHalf ? "closed without an answer after the client's half-close" : "closed without an answer"),
        };
    }

    /// <summary>Splits a byte stream into HTTP/1.1 answers (Content-Length or chunked bodies).</summary>
    private static RawHttpAnswer Parse(byte[] bytes)
    {
        var statuses = new List<int>();
        string firstHead = "", firstBody = "";
        var position = 0;
        while (position < bytes.Length)
        {
            var end = bytes.AsSpan(position).IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                break;
            }

            var head = Encoding.Latin1.GetString(bytes, position, end);
            var lines = head.Split("\r\n");
            var statusLine = lines[0].Split(' ');
            if (statusLine.Length < 2 || !int.TryParse(statusLine[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
            {
                break;
            }

            statuses.Add(status);
            position += end + 4;
            var contentLength = lines.Skip(1).Select(l => l.Split(':', 2)).Where(h => h.Length == 2 && h[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                .Select(h => int.TryParse(h[1].Trim(), CultureInfo.InvariantCulture, out var n) ? n : 0).FirstOrDefault(-1);
            var chunked = lines.Any(l => l.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) && l.Contains("chunked", StringComparison.OrdinalIgnoreCase));
            var body = new MemoryStream();
            if (chunked)
            {
                position = Dechunk(bytes, position, body);
            }
            else
            {
                var bodyEnd = contentLength >= 0 ? Math.Min(bytes.Length, position + contentLength) : bytes.Length;
                body.Write(bytes, position, bodyEnd - position);
                position = bodyEnd;
            }

            if (statuses.Count == 1)
            {
                firstHead = head;
                firstBody = Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length);
            }
        }

        return new RawHttpAnswer(statuses, firstHead, firstBody, null);
    }

    /// <summary>Reads a chunked body into <paramref name="body"/>; returns the position after it.</summary>
    private static int Dechunk(byte[] bytes, int position, MemoryStream body)
    {
        while (position < bytes.Length)
        {
            var lineEnd = bytes.AsSpan(position).IndexOf("\r\n"u8);
            if (lineEnd < 0)
            {
                return bytes.Length;
            }

            var sizeText = Encoding.Latin1.GetString(bytes, position, lineEnd).Split(';')[0].Trim();
            if (!int.TryParse(sizeText, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var size) || size < 0)
            {
                return bytes.Length;
            }

            position += lineEnd + 2;
            if (size == 0)
            {
                // Trailers, if any, end with an empty line.
                var end = bytes.AsSpan(position).IndexOf("\r\n"u8);
                while (end > 0)
                {
                    position += end + 2;
                    end = bytes.AsSpan(position).IndexOf("\r\n"u8);
                }

                return end < 0 ? bytes.Length : position + 2;
            }

            var count = Math.Min(size, bytes.Length - position);
            body.Write(bytes, position, count);
            position = Math.Min(bytes.Length, position + count + 2);
        }

        return position;
    }
}
