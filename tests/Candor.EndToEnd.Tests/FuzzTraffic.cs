using System.Net;
using System.Net.Sockets;
using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>Sends <see cref="FuzzRequest"/>s and valid batches the way the abuse tests need.</summary>
internal static class FuzzTraffic
{
    /// <summary>A fuzz client's HttpClient: no automatic decompression or cookies, a timeout that only
    /// ends a hang (a stuck request is counted as "no answer", never as a fast or slow one).</summary>
    public static HttpClient CreateClient(Uri baseAddress, IPAddress? source = null) =>
        LoopbackClient.Create(baseAddress, source ?? IPAddress.Loopback, TimeSpan.FromSeconds(100));

    /// <summary>Sends a request; the status is the worst (highest) of the answers on a raw connection.</summary>
    public static async Task<(int? Status, string Body, string? Failure)> SendAsync(HttpClient client, Uri baseAddress, FuzzRequest request)
    {
        if (request.RawParts is { } parts)
        {
            var answer = await RawHttp.ExchangeAsync(baseAddress, parts, request.CloseSendingHalf, request.RawReadLimit);
            return (answer.Statuses.Count == 0 ? null : answer.Statuses.Max(), answer.FirstBody, answer.Failure);
        }

        using var message = new HttpRequestMessage(request.Method, request.Path);
        if (request.Body.Length > 0 || request.Method == HttpMethod.Post)
        {
            message.Content = new ByteArrayContent(request.Body);
            if (request.ContentType is { } type)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", type);
            }

            if (request.ContentEncoding is { } encoding)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Encoding", encoding);
            }
        }

        if (request.Chunked)
        {
            message.Headers.TransferEncodingChunked = true;
        }

        if (request.WriteKey is { } key)
        {
            message.Headers.TryAddWithoutValidation("X-Candor-Write-Key", key);
        }

        foreach (var (name, value) in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        try
        {
            using var response = await client.SendAsync(message);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), null);
        }
        catch (HttpRequestException ex)
        {
            return (null, "", Describe(ex));
        }
        catch (TaskCanceledException)
        {
            return (null, "", "timeout: no answer within the client's timeout");
        }
    }

    /// <summary>A gzipped acme batch from a client, with the usual headers.</summary>
    public static async Task<(int? Status, string Body, string? Failure)> PostBatchAsync(HttpClient client, string json)
    {
        try
        {
            using var response = await CollectorHttp.PostAsync(client, json);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), null);
        }
        catch (HttpRequestException ex)
        {
            return (null, "", Describe(ex));
        }
        catch (TaskCanceledException)
        {
            return (null, "", "timeout: no answer within the client's timeout");
        }
    }

    private static string Describe(HttpRequestException ex)
    {
        var socket = ex.InnerException as SocketException ?? ex.InnerException?.InnerException as SocketException;
        return socket is not null
            ? $"{socket.SocketErrorCode}: {ex.Message}"
            : $"{ex.HttpRequestError}: {ex.Message}";
    }
}
