using Candor.Delivery;
using Candor.Diagnostics;
using Candor.Protocol;

namespace Candor.Rights;

/// <summary>
/// Sends the deletions <c>telemetry forget</c> could not have confirmed (see <see cref="PendingForgets"/>),
/// in the background of a later run: on the delivery thread before anything else it sends, or, for a
/// client without one (telemetry off or local), on a short-lived background thread of its own. Never
/// blocks the host and never throws.
/// </summary>
/// <remarks>
/// A pending deletion is sent whatever the level, even <c>off</c>: the user asked for it, and it carries
/// the product and the install id to delete, nothing about usage. It is the only request a client
/// under <c>off</c> ever makes, and only while a deletion is pending (one directory probe otherwise).
/// Debug mode sends nothing, this included.
/// </remarks>
internal static class ForgetDelivery
{
    /// <summary>Asks the collector once for each pending deletion, oldest first, and stops at the first
    /// transient failure (the collector is down or busy; a later run asks again).</summary>
    /// <param name="stateDirectory">Where the pending deletions are kept.</param>
    /// <param name="product">The product whose installs they are.</param>
    /// <param name="post">Sends one request: path and body to the answer.</param>
    /// <param name="time">The clock a refusal is dated by.</param>
    /// <param name="cutShort">Whether to stop before the next request (the host is exiting).</param>
    /// <returns>How many deletions the collector confirmed.</returns>
    public static int SendPending(string stateDirectory, string product, Func<string, byte[], RightsAnswer> post, TimeProvider time, Func<bool> cutShort)
    {
        var confirmed = 0;
        foreach (var pending in PendingForgets.Read(stateDirectory))
        {
            if (cutShort())
            {
                break;
            }

            var answer = post(ProtocolConstants.ForgetPath, RightsRequest.Body(product, pending.InstallId));
            switch (answer.ForgetOutcome)
            {
                case ForgetOutcome.Confirmed:
                    PendingForgets.Confirmed(stateDirectory, pending.InstallId);
                    confirmed++;
                    break;
                case ForgetOutcome.Refused:
                    CandorEventSource.Log.DeliveryFailed("forget refused: " + answer.Status);
                    PendingForgets.Refused(stateDirectory, pending, answer.Describe(), time.GetUtcNow());
                    break;
                default:
                    CandorEventSource.Log.DeliveryFailed("forget not answered: " + answer.Describe());
                    return confirmed;
            }
        }

        return confirmed;
    }

    /// <summary>For a client without a delivery thread: when a deletion is pending and a collector is
    /// configured, sends it on a background thread that nothing waits for (a process that exits first
    /// leaves it pending for the next run). Costs one directory probe when nothing is pending.</summary>
    /// <returns>The thread, for tests; null when none was started.</returns>
    public static Thread? StartIfPending(CandorOptions options, string stateDirectory, TimeProvider time)
    {
        if (options.Endpoint is not { } endpoint || !PendingForgets.Any(stateDirectory))
        {
            return null;
        }

        var thread = new Thread(() =>
        {
            try
            {
                using var sender = new HttpSender(endpoint, options.WriteKey, options.ConnectTimeout, time, options.HttpHandlerFactory);
                SendPending(stateDirectory, options.ProductName, (path, body) =>
                {
                    // A network timeout: real time, whatever the client's clock.
                    using var timeout = new CancellationTokenSource(options.SendTimeout);
                    return sender.Post(path, body, timeout.Token);
                }, time, static () => false);
            }
            catch (Exception ex)
            {
                CandorEventSource.Log.InternalError(ex.GetType().Name);
            }
        })
        { IsBackground = true, Name = "Candor forget" };
        thread.Start();
        return thread;
    }
}
