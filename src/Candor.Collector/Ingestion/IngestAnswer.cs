using System.Globalization;
using Candor.Protocol;

namespace Candor.Collector.Ingestion;

/// <summary>
/// The pipeline's answer to one batch, before a front door writes it: a status and a body
/// (<see cref="IngestResponse"/> when some event was stored, otherwise an <see cref="ErrorResponse"/>
/// with a code), how long a refused client should wait, and how many events were stored or rejected.
/// It holds the batch's large-body slot until it is disposed, once the answer has been sent: the
/// batch's objects live that long.
/// </summary>
internal sealed class IngestAnswer : IDisposable
{
    private IDisposable? _held;

    private IngestAnswer(int status, IngestResponse? response, ErrorResponse? error, int? retryAfterSeconds)
    {
        Status = status;
        Response = response;
        Error = error;
        RetryAfterSeconds = retryAfterSeconds;
    }

    public int Status { get; }

    /// <summary>The body of an answer that stored something.</summary>
    public IngestResponse? Response { get; }

    /// <summary>The body of a refusal.</summary>
    public ErrorResponse? Error { get; }

    /// <summary>The refusal's code; <see langword="null"/> when something was stored.</summary>
    public string? Code => Error?.Code;

    /// <summary>The <c>Retry-After</c> of a refusal worth retrying later.</summary>
    public int? RetryAfterSeconds { get; }

    /// <summary>Events stored, including those acknowledged as duplicates.</summary>
    public int Stored { get; private init; }

    /// <summary>Events rejected and quarantined.</summary>
    public int Rejected { get; private init; }

    /// <summary>The batch as a whole is refused with <paramref name="code"/>.</summary>
    public static IngestAnswer Refusal(int status, string code, string message, int? retryAfterSeconds = null) =>
        new(status, null, new ErrorResponse { Code = code, Message = message }, retryAfterSeconds);

    /// <summary>The answer once the batch is committed: 200 with each event's result, or 422
    /// <c>no_valid_events</c> (with the results) when nothing of it was stored.</summary>
    public static IngestAnswer Committed(IngestResponse response) => response.Accepted + response.Duplicates > 0
        ? new(StatusCodes.Status200OK, response, null, null) { Stored = response.Accepted + response.Duplicates, Rejected = response.Rejected }
        : new(StatusCodes.Status422UnprocessableEntity, null,
            new ErrorResponse { Code = ErrorCodes.NoValidEvents, Message = "No event of the batch is valid; see results, and the quarantine.", Results = response.Results },
            null) { Rejected = response.Rejected };

    /// <summary>The answer of a body read and then dropped (the load generator's baseline).</summary>
    public static IngestAnswer Discarded() => new(StatusCodes.Status200OK, new IngestResponse(), null, null);

    /// <summary>Keeps <paramref name="held"/> until this answer is disposed.</summary>
    public IngestAnswer Holding(IDisposable held)
    {
        _held = held;
        return this;
    }

    /// <summary>The answer for ASP.NET Core: its <c>Retry-After</c>, its body, and the held slot
    /// released once the response is done.</summary>
    public IResult ToResult(HttpContext http)
    {
        http.Response.RegisterForDispose(this);
        if (RetryAfterSeconds is { } seconds)
        {
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        return Error is { } error
            ? Results.Json(error, ProtocolJsonContext.Default.ErrorResponse, statusCode: Status)
            : Results.Json(Response, ProtocolJsonContext.Default.IngestResponse);
    }

    public void Dispose() => Interlocked.Exchange(ref _held, null)?.Dispose();
}
