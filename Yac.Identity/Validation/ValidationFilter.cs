namespace Yac.Identity.Validation;

/// <summary>A request body that can tell what is wrong with it, field by field (camelCase names).</summary>
public interface IValidatableRequest
{
    /// <summary>Field name -> messages; empty when the request is valid.</summary>
    Dictionary<string, string[]> Validate();
}

/// <summary>Answers 400 validation problem details before the handler runs when the body is invalid.</summary>
internal sealed class ValidationFilter<TRequest> : IEndpointFilter
    where TRequest : IValidatableRequest
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.Arguments.OfType<TRequest>().FirstOrDefault();
        if (request is not null)
        {
            var errors = request.Validate();
            if (errors.Count > 0)
            {
                return TypedResults.ValidationProblem(errors);
            }
        }

        return await next(context);
    }
}

internal static class ValidationFilterExtensions
{
    /// <summary>Validates the endpoint's <typeparamref name="TRequest"/> body (400 with <c>errors</c>).</summary>
    public static RouteHandlerBuilder WithValidation<TRequest>(this RouteHandlerBuilder builder)
        where TRequest : IValidatableRequest
        => builder.AddEndpointFilter<ValidationFilter<TRequest>>().ProducesValidationProblem();
}
