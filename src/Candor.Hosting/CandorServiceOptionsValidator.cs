using Candor.Consent;
using Microsoft.Extensions.Options;

namespace Candor.Hosting;

/// <summary>Checks <see cref="CandorServiceOptions"/> when the host starts (and at each reload): every
/// problem is listed, each naming its option, so a misconfigured service fails at once rather than
/// running without telemetry the operator thinks it has.</summary>
internal sealed class CandorServiceOptionsValidator : IValidateOptions<CandorServiceOptions>
{
    private const string Prefix = nameof(CandorServiceOptions) + ".";

    public ValidateOptionsResult Validate(string? name, CandorServiceOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ProductName))
        {
            errors.Add(Prefix + "ProductName is required (e.g. acme-server).");
        }
        else if (!CandorOptions.IsProductName(options.ProductName))
        {
            errors.Add($"{Prefix}ProductName '{options.ProductName}' may hold only lower-case letters, digits, '-' and '_'.");
        }

        if (options.Endpoint is { IsAbsoluteUri: false } || options.Endpoint is { Scheme: not ("http" or "https") })
        {
            errors.Add($"{Prefix}Endpoint '{options.Endpoint}' must be an absolute http or https address.");
        }

        if (!string.IsNullOrWhiteSpace(options.EnvironmentPrefix) && !CandorOptions.IsVariableName(options.EnvironmentPrefix))
        {
            errors.Add($"{Prefix}EnvironmentPrefix '{options.EnvironmentPrefix}' may hold only letters, digits and '_'.");
        }

        if (!ServiceConsent.IsValidConfigured(options.Telemetry))
        {
            errors.Add($"{Prefix}Telemetry '{options.Telemetry}' must be off, local, anonymous, identified, on, true, false, 1 or 0.");
        }

        if (options.DefaultPolicy == ConsentPolicy.Prompt)
        {
            errors.Add(Prefix + "DefaultPolicy Prompt is not allowed for a service (there is no one to ask): use OptIn or OptOut.");
        }
        else if (options.DefaultPolicy is not (ConsentPolicy.OptIn or ConsentPolicy.OptOut))
        {
            errors.Add($"{Prefix}DefaultPolicy {options.DefaultPolicy} is not a known policy: use OptIn or OptOut.");
        }

        if (options.StateDirectory is { Length: > 0 } state && !Path.IsPathFullyQualified(state))
        {
            errors.Add($"{Prefix}StateDirectory '{state}' must be an absolute path.");
        }

        Range(errors, nameof(CandorServiceOptions.HeartbeatInterval), options.HeartbeatInterval, TimeSpan.FromSeconds(1), TimeSpan.FromHours(24));
        Range(errors, nameof(CandorServiceOptions.UsageInterval), options.UsageInterval, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Range(List<string> errors, string name, TimeSpan value, TimeSpan minimum, TimeSpan maximum)
    {
        if (value < minimum || value > maximum)
        {
            errors.Add($"{Prefix}{name} {value} must be between {minimum} and {maximum}.");
        }
    }
}
