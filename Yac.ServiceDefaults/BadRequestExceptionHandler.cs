using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// A request that ASP.NET Core could not read (a body that is not JSON, a
/// query or route value that does not parse) is the client's mistake: 400 problem details saying
/// what could not be read, never a 500. Minimal APIs throw <see cref="BadHttpRequestException"/>
/// for these in every environment (see AddServiceDefaults). A body not declared as JSON is answered
/// 415 by minimal APIs without an exception; <c>UseStatusCodePages</c> gives it a problem body.
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException badRequest)
        {
            return false;
        }

        var status = badRequest.StatusCode;
        httpContext.Response.StatusCode = status;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = status,
                Title = ReasonPhrases.GetReasonPhrase(status),
                Detail = badRequest.Message,
            },
        });
    }
}
