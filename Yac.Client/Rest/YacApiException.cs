using System.Net;

namespace Yac.Client;

/// <summary>
/// A REST call answered with an error: the RFC 9457 problem details YAC sends, as an exception.
/// Catch a subclass for the common answers (<see cref="YacValidationException"/>,
/// <see cref="YacUnauthorizedException"/>, <see cref="YacForbiddenException"/>,
/// <see cref="YacNotFoundException"/>, <see cref="YacConflictException"/>,
/// <see cref="YacRateLimitedException"/>, <see cref="YacUnavailableException"/>).
/// </summary>
public class YacApiException : Exception
{
    /// <summary>Creates the exception for an error answer.</summary>
    public YacApiException(HttpStatusCode statusCode, string? title, string? detail)
        : base(Describe(statusCode, title, detail))
    {
        StatusCode = statusCode;
        Title = title;
        Detail = detail;
    }

    /// <summary>The HTTP status of the answer.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The problem's <c>title</c>.</summary>
    public string? Title { get; }

    /// <summary>The problem's <c>detail</c>.</summary>
    public string? Detail { get; }

    /// <summary>Makes the subclass that fits <paramref name="statusCode"/>.</summary>
    internal static YacApiException Create(
        HttpStatusCode statusCode, string? title, string? detail, IReadOnlyDictionary<string, string[]>? errors, TimeSpan? retryAfter) =>
        statusCode switch
        {
            HttpStatusCode.BadRequest => new YacValidationException(title, detail, errors ?? new Dictionary<string, string[]>()),
            HttpStatusCode.Unauthorized => new YacUnauthorizedException(title, detail),
            HttpStatusCode.Forbidden => new YacForbiddenException(title, detail),
            HttpStatusCode.NotFound => new YacNotFoundException(title, detail),
            HttpStatusCode.Conflict => new YacConflictException(title, detail),
            HttpStatusCode.TooManyRequests => new YacRateLimitedException(title, detail, retryAfter),
            HttpStatusCode.ServiceUnavailable => new YacUnavailableException(title, detail, retryAfter),
            _ => new YacApiException(statusCode, title, detail),
        };

    private static string Describe(HttpStatusCode statusCode, string? title, string? detail) =>
        $"YAC answered {(int)statusCode} {title ?? statusCode.ToString()}{(detail is null ? "" : ": " + detail)}";
}

/// <summary>400: the request was invalid; <see cref="Errors"/> says which field and why.</summary>
public sealed class YacValidationException(string? title, string? detail, IReadOnlyDictionary<string, string[]> errors)
    : YacApiException(HttpStatusCode.BadRequest, title, detail)
{
    /// <summary>Field name (camelCase) to messages; empty when the problem named no field.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;
}

/// <summary>401: bad credentials, or a token that is missing, expired, revoked or refused.</summary>
public sealed class YacUnauthorizedException(string? title, string? detail)
    : YacApiException(HttpStatusCode.Unauthorized, title, detail);

/// <summary>403: a valid user touching what is not theirs.</summary>
public sealed class YacForbiddenException(string? title, string? detail)
    : YacApiException(HttpStatusCode.Forbidden, title, detail);

/// <summary>404: it does not exist, or it is a chat the caller may not see.</summary>
public sealed class YacNotFoundException(string? title, string? detail)
    : YacApiException(HttpStatusCode.NotFound, title, detail);

/// <summary>409: e.g. a username that is taken.</summary>
public sealed class YacConflictException(string? title, string? detail)
    : YacApiException(HttpStatusCode.Conflict, title, detail);

/// <summary>429: too many attempts; try again after <see cref="RetryAfter"/>.</summary>
public sealed class YacRateLimitedException(string? title, string? detail, TimeSpan? retryAfter)
    : YacApiException(HttpStatusCode.TooManyRequests, title, detail)
{
    /// <summary>The server's <c>Retry-After</c>, if it sent one.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>503: a service behind the gateway is unreachable; nothing was done, retry shortly.</summary>
public sealed class YacUnavailableException(string? title, string? detail, TimeSpan? retryAfter)
    : YacApiException(HttpStatusCode.ServiceUnavailable, title, detail)
{
    /// <summary>The server's <c>Retry-After</c>, if it sent one.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
