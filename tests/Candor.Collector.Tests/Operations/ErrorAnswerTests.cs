using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Candor.Collector.Tests.Operations;

/// <summary>What the collector answers where no endpoint wrote an answer of its own.</summary>
public sealed class ErrorAnswerTests
{
    [Fact]
    public async Task AnUnknownPathIsAnswered404WithANotFoundCode()
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.Http.GetAsync("/v1/nothing-here");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not_found", await CodeOfAsync(response));
    }

    [Fact]
    public async Task AWrongMethodIsAnswered405WithAMethodNotAllowedCode()
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.Http.DeleteAsync("/v1/events");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("method_not_allowed", await CodeOfAsync(response));
    }

    [Fact]
    public async Task TheIngestEndpointKeepsItsOwnErrorAnswers()
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.PostAsync(TestCollector.Batch(), writeKey: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("missing_write_key", await CodeOfAsync(response));
    }

    [Fact]
    public async Task AnExceptionIsAnswered500WithARequestIdLoggedOnceWithItAndNoTraceOfTheException()
    {
        var logged = new LoggedErrors();
        await using var collector = await TestCollector.StartAsync(beforeStart: app =>
        {
            app.Services.GetRequiredService<ILoggerFactory>().AddProvider(logged);
            app.MapGet("/test/throw", string () => throw new InvalidOperationException("connection string Password=hunter2 at /srv/secret"));
        });

        using var response = await collector.Http.GetAsync("/test/throw");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        using var body = JsonDocument.Parse(text);
        Assert.Equal("internal_error", body.RootElement.GetProperty("code").GetString());
        var requestId = body.RootElement.GetProperty("request_id").GetString();
        Assert.False(string.IsNullOrEmpty(requestId));
        Assert.Contains(requestId, body.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", text, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", text, StringComparison.Ordinal);
        var entry = Assert.Single(logged.Entries);
        Assert.Contains(requestId!, entry.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(entry.Exception);
    }

    [Theory]
    [InlineData("FFFFFFFFFFFFFFFFFFFFFFFF")] // a chunk size that overflows: Kestrel's plain IOException
    [InlineData("zz")] // not hexadecimal: Kestrel's BadHttpRequestException
    public async Task AMalformedChunkedBodyIsAnswered400WithABadRequestCode(string chunkSize)
    {
        // An endpoint that only reads the body: the pipeline's answer, not one of the ingest endpoint's.
        await using var collector = await TestCollector.StartAsync(beforeStart: app =>
            app.MapPost("/test/read", async (HttpContext http) =>
            {
                await http.Request.Body.CopyToAsync(Stream.Null);
                return Results.NoContent();
            }));

        var answer = await PostChunkedAsync(collector, "/test/read", chunkSize);

        Assert.StartsWith("HTTP/1.1 400 ", answer, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/json", answer, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"bad_request\"", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMalformedChunkedIngestBodyIsAnswered400WithAnErrorBody()
    {
        await using var collector = await TestCollector.StartAsync();

        var answer = await PostChunkedAsync(collector, "/v1/events", "FFFFFFFFFFFFFFFFFFFFFFFF");

        Assert.StartsWith("HTTP/1.1 400 ", answer, StringComparison.Ordinal);
        using var body = JsonDocument.Parse(answer[(answer.IndexOf('{', StringComparison.Ordinal))..(answer.LastIndexOf('}') + 1)]);
        Assert.False(string.IsNullOrEmpty(body.RootElement.GetProperty("code").GetString()));
    }

    /// <summary>Sends a chunked POST whose first chunk has <paramref name="chunkSize"/> for its size
    /// line, and reads the whole answer (the collector closes the connection after it: the
    /// request's framing is lost).</summary>
    private static async Task<string> PostChunkedAsync(TestCollector collector, string path, string chunkSize)
    {
        var address = collector.Http.BaseAddress!;
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: {address.Authority}\r\nX-Candor-Write-Key: {TestCollector.WriteKey}\r\n" +
            $"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{chunkSize}\r\n{{}}\r\n0\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    private static async Task<string?> CodeOfAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("code").GetString();
    }

    /// <summary>Error-level log entries, from every logger of the app.</summary>
    private sealed class LoggedErrors : ILoggerProvider, ILogger
    {
        private readonly List<(string Message, Exception? Exception)> _entries = [];

        public IReadOnlyList<(string Message, Exception? Exception)> Entries
        {
            get
            {
                lock (_entries)
                {
                    return [.. _entries];
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                lock (_entries)
                {
                    _entries.Add((formatter(state, exception), exception));
                }
            }
        }

        public void Dispose()
        {
        }
    }
}
