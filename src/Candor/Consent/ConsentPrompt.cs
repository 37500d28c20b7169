using Candor.Platform;

namespace Candor.Consent;

/// <summary>The answer to the first-run question. <see cref="Level"/> is <see langword="null"/> when the
/// user gave no usable answer (end of input, or invalid answers three times) or quit.</summary>
internal sealed record PromptAnswer(TelemetryLevel? Level, string? UserId = null, bool Quit = false)
{
    public static readonly PromptAnswer None = new(Level: null);
}

/// <summary>
/// Asks the user to choose a level: [1] off, [2] local, [3] anonymous, [4] identified, [q] quit.
/// Only called when standard input and standard error are terminals and no CI is detected; end of
/// input or three invalid answers end it without an answer, so it can never hang a pipeline.
/// </summary>
internal static class ConsentPrompt
{
    private const int Attempts = 3;

    public static PromptAnswer Ask(ICandorEnvironment environment, CandorOptions options)
    {
        environment.WriteError($"""
            {options.ResolvedNoticeText}

            Allow {options.ProductName} to collect usage telemetry?
              [1] off         nothing is recorded or sent
              [2] local       recorded to a log on this machine only, never sent
              [3] anonymous   sent with a random install id, nothing personal
              [4] identified  sent with an id you provide (an email address or a UUID)
              [q] quit

            """);

        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            environment.WriteError("Choice [1-4, q]: ");
            var line = environment.ReadLine();
            if (line is null)
            {
                environment.WriteError("\nNo answer: telemetry is off for this run; you will be asked again.\n");
                return PromptAnswer.None;
            }

            switch (line.Trim().ToLowerInvariant())
            {
                case "1" or "off":
                    return new PromptAnswer(TelemetryLevel.Off);
                case "2" or "local":
                    return new PromptAnswer(TelemetryLevel.Local);
                case "3" or "anonymous":
                    return new PromptAnswer(TelemetryLevel.Anonymous);
                case "4" or "identified":
                    return AskUserId(environment);
                case "q" or "quit":
                    return new PromptAnswer(Level: null, Quit: true);
                default:
                    environment.WriteError("Please answer 1, 2, 3, 4 or q.\n");
                    break;
            }
        }

        environment.WriteError("No answer: telemetry is off for this run; you will be asked again.\n");
        return PromptAnswer.None;
    }

    private static PromptAnswer AskUserId(ICandorEnvironment environment)
    {
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            environment.WriteError("Your id (an email address or a UUID): ");
            var line = environment.ReadLine();
            if (line is null)
            {
                break;
            }

            if (UserIds.IsValid(line.Trim()))
            {
                return new PromptAnswer(TelemetryLevel.Identified, line.Trim());
            }

            environment.WriteError("That is neither an email address nor a UUID.\n");
        }

        environment.WriteError("\nNo answer: telemetry is off for this run; you will be asked again.\n");
        return PromptAnswer.None;
    }
}
