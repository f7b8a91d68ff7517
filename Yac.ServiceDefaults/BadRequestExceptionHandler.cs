using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// A request that ASP.NET Core could not read (a body that is not JSON, a
/// query or route value that does not parse) is the client's mistake: 400 problem details saying
/// what could not be read, never a 500. Minimal APIs throw <see cref="BadHttpRequestException"/>
/// for these in every environment (see AddServiceDefaults). A body not declared as JSON is answered
/// 415 by minimal APIs without an exception; <c>UseStatusCodePages</c> gives it a problem body.
/// A body that is JSON but has a field that cannot be read (a wrong type, or a string that is not
/// Unicode, such as a lone surrogate <c>"\ud800"</c>) is a validation problem: <c>errors</c> names the field.
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
        var field = FieldOf(badRequest.InnerException as JsonException);
        var details = field is null
            ? new ProblemDetails()
            : new HttpValidationProblemDetails(new Dictionary<string, string[]>
            {
                [field] = [$"'{field}' could not be read: a value of the wrong type, or a string that is not valid Unicode."],
            });
        details.Status = status;
        details.Title = field is null ? ReasonPhrases.GetReasonPhrase(status) : "One or more validation errors occurred.";
        details.Detail = badRequest.Message;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = details,
        });
    }

    /// <summary>The body's top-level field a JSON error is about (<c>$.memberIds[2]</c>: <c>memberIds</c>), if any.</summary>
    internal static string? FieldOf(JsonException? exception)
    {
        if (exception?.Path is not { } path || !path.StartsWith("$.", StringComparison.Ordinal) || path.Length <= 2)
        {
            return null;
        }

        var name = path[2..];
        var end = name.IndexOfAny(['.', '[']);
        return end == 0 ? null : end > 0 ? name[..end] : name;
    }
}
