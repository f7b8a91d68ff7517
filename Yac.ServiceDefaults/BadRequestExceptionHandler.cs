using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// A request that ASP.NET Core could not read (a body that is not JSON or not declared as JSON, a
/// query or route value that does not parse) is the client's mistake: 400 problem details saying
/// what could not be read, never a 500 (YAC's rule: a non-JSON body is 400, whatever its
/// Content-Type, so the 415 of a wrong media type becomes 400 too). Minimal APIs throw
/// <see cref="BadHttpRequestException"/> for these in every environment (see AddServiceDefaults).
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException badRequest)
        {
            return false;
        }

        var status = badRequest.StatusCode == StatusCodes.Status415UnsupportedMediaType
            ? StatusCodes.Status400BadRequest
            : badRequest.StatusCode;
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
