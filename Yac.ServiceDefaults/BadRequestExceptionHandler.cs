using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// A request that ASP.NET Core could not read (a body that is not JSON, a query or route value that
/// does not parse) is the client's mistake: answered with its own status (400, or 415 for a body
/// that is not declared as JSON) as problem details saying what could not be read, never a 500.
/// Minimal APIs throw <see cref="BadHttpRequestException"/> for these in Development (elsewhere they
/// answer the bare status, which <c>UseStatusCodePages</c> turns into problem details).
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException badRequest)
        {
            return false;
        }

        httpContext.Response.StatusCode = badRequest.StatusCode;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = badRequest.StatusCode,
                Title = ReasonPhrases.GetReasonPhrase(badRequest.StatusCode),
                Detail = badRequest.Message,
            },
        });
    }
}
