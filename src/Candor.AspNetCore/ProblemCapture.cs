using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Candor.AspNetCore;

/// <summary>The code of the problem details a request wrote, stashed on its features (the body is
/// never read).</summary>
internal sealed class ProblemCodeFeature(string code)
{
    public string Code { get; } = code;

    /// <summary>Stashes the code of <paramref name="problem"/> on <paramref name="context"/>.</summary>
    public static void Capture(HttpContext context, Microsoft.AspNetCore.Mvc.ProblemDetails problem)
    {
        var status = problem.Status ?? context.Response.StatusCode;
        problem.Extensions.TryGetValue("code", out var code);
        context.Features.Set(new ProblemCodeFeature(ErrorCodes.OfProblem(code, problem.Type, status)));
    }
}

/// <summary>
/// Sees every problem details written through <see cref="IProblemDetailsService"/>
/// (<c>Results.Problem</c>, <c>TypedResults.Problem</c>, the exception handler, status code pages) when
/// the service added it (<c>AddProblemDetails</c>). Registered first among the writers, it is asked
/// first whether it can write; it notes the code and answers no, so the writer that was going to write
/// still does, unchanged.
/// </summary>
internal sealed class ProblemCodeObserver : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context)
    {
        ProblemCodeFeature.Capture(context.HttpContext, context.ProblemDetails);
        return false;
    }

    public ValueTask WriteAsync(ProblemDetailsContext context) => ValueTask.CompletedTask;
}

/// <summary>Notes the code again after the service's own <see cref="ProblemDetailsOptions.CustomizeProblemDetails"/>
/// ran (it may add the <c>code</c> extension), also for MVC's <c>Problem()</c>, which customizes
/// through the same options.</summary>
internal sealed class ProblemCodeCustomizer : IPostConfigureOptions<ProblemDetailsOptions>
{
    public void PostConfigure(string? name, ProblemDetailsOptions options)
    {
        var customize = options.CustomizeProblemDetails;
        options.CustomizeProblemDetails = context =>
        {
            customize?.Invoke(context);
            ProblemCodeFeature.Capture(context.HttpContext, context.ProblemDetails);
        };
    }
}
