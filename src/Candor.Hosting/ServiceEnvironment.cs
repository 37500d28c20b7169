using Candor.Platform;

namespace Candor.Hosting;

/// <summary>
/// The process environment as a service's client sees it: the same variables, except that
/// <c>&lt;PREFIX&gt;_TELEMETRY_DEBUG</c> (which makes a tool print its events to standard error) does not
/// exist; no terminal; and anything written to standard error goes nowhere. A service writes nothing to
/// standard error or standard output, ever: what it has to say goes to its log.
/// </summary>
internal sealed class ServiceEnvironment(ICandorEnvironment inner) : ICandorEnvironment
{
    public string? GetVariable(string name) =>
        name.EndsWith("_TELEMETRY_DEBUG", StringComparison.Ordinal) ? null : inner.GetVariable(name);

    public string CurrentDirectory => inner.CurrentDirectory;

    public string HomeDirectory => inner.HomeDirectory;

    public bool IsInputTerminal => false;

    public bool IsErrorTerminal => false;

    public string? ReadLine() => null;

    public void WriteError(string text)
    {
    }
}
