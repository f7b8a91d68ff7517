using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Yac.Identity.Infrastructure;
using Yac.Identity.Sessions;
using Yac.Identity.Users;
using Yac.Identity.Validation;
using Yac.ServiceDefaults.RateLimiting;

namespace Yac.Identity.Tokens;

public static class TokensApi
{
    public static IEndpointRouteBuilder MapTokensApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/tokens").WithTags("Tokens");

        group.MapPost("/", LoginAsync)
            .WithValidation<LoginRequest>()
            .WithSummary("Log in: starts a device session and returns its tokens");
        group.MapPost("/refresh", RefreshAsync)
            .WithValidation<RefreshRequest>()
            .WithSummary("Trade a refresh token for new tokens of the same device (the old refresh token dies)");

        return app;
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> LoginAsync(
        LoginRequest request,
        IdentityDbContext db,
        PasswordService passwords,
        DeviceSessionService sessions,
        LoginThrottle throttle,
        HttpContext httpContext,
        CancellationToken cancellationToken)
    {
        var username = UserRules.NormalizeUsername(request.Username!);
        // Taken before the password is checked, so concurrent attempts cannot overrun the budget.
        var permit = await throttle.BeginAsync(username, httpContext.Connection.RemoteIpAddress);
        if (permit.RetryAfter is { } retryAfter)
        {
            httpContext.Response.Headers.RetryAfter = RedisRateLimits.RetryAfterSeconds(retryAfter);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status429TooManyRequests,
                title: "Too many attempts",
                detail: "Too many failed logins; try again after the time in Retry-After (seconds).");
        }

        var user = await db.Users.FirstOrDefaultAsync(user => user.Username == username, cancellationToken);
        var (isValid, rehashNeeded) = await passwords.VerifyAsync(user, request.Password!, cancellationToken);
        if (!isValid)
        {
            // The permit is kept: it counts as a failure until its window ends.
            return InvalidCredentials();
        }

        await throttle.SucceededAsync(permit);

        if (rehashNeeded)
        {
            user!.PasswordHash = await passwords.HashAsync(user, request.Password!, cancellationToken);
        }

        return TypedResults.Ok(await sessions.StartAsync(user!.Id, request.DeviceName, cancellationToken));
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> RefreshAsync(
        RefreshRequest request, DeviceSessionService sessions, CancellationToken cancellationToken)
    {
        var tokens = await sessions.RefreshAsync(request.RefreshToken!, cancellationToken);
        return tokens is null
            ? TypedResults.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Invalid refresh token",
                detail: "The refresh token is unknown, expired, already used, or its device session was revoked; log in again.")
            : TypedResults.Ok(tokens);
    }

    /// <summary>One answer for an unknown user and a wrong password, so neither reveals which it was.</summary>
    private static ProblemHttpResult InvalidCredentials() => TypedResults.Problem(
        statusCode: StatusCodes.Status401Unauthorized,
        title: "Invalid credentials",
        detail: "The username or password is incorrect.");
}
