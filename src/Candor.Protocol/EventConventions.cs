namespace Candor.Protocol;

/// <summary>
/// The names of the events and properties the SDK records by convention (command runs, operations,
/// errors, heartbeats) and the collector reads for its analytics. Defined once, here, so the client
/// and the collector cannot drift apart.
/// </summary>
public static class EventConventions
{
    /// <summary>The event a command-line tool records for each command run.</summary>
    public const string CommandEvent = "command";

    /// <summary>The event that names an operation in its <see cref="OperationProperty"/>.</summary>
    public const string OperationEvent = "operation";

    /// <summary>The event recorded for a failure.</summary>
    public const string ErrorEvent = "error";

    /// <summary>The event a long-running instance records periodically while it runs.</summary>
    public const string HeartbeatEvent = "heartbeat";

    /// <summary>The command path of a <see cref="CommandEvent"/>, e.g. <c>run</c>.</summary>
    public const string CommandProperty = "command";

    /// <summary>The operation's name in an <see cref="OperationEvent"/>.</summary>
    public const string OperationProperty = "operation";

    /// <summary>How long a command or an operation took, in milliseconds (an integer).</summary>
    public const string DurationMs = "duration_ms";

    /// <summary>How an operation ended: <see cref="OutcomeSuccess"/> or <see cref="OutcomeFailure"/>.</summary>
    public const string Outcome = "outcome";

    /// <summary>The <see cref="Outcome"/> of an operation that succeeded.</summary>
    public const string OutcomeSuccess = "success";

    /// <summary>The <see cref="Outcome"/> of an operation that failed.</summary>
    public const string OutcomeFailure = "failure";

    /// <summary>A command's exit code (an integer; non-zero is a failure).</summary>
    public const string ExitCode = "exit_code";

    /// <summary>A stable, machine-readable code of a failure, never its message.</summary>
    public const string ErrorCode = "error_code";

    /// <summary>The type of the exception behind a failure, e.g. <c>IOException</c>.</summary>
    public const string ErrorType = "error_type";
}
