using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Yac.Identity.Infrastructure;
using Yac.Identity.Sessions;
using Yac.Identity.Users;
using Yac.Identity.Validation;

namespace Yac.Identity.Tokens;

public static class TokensApi
{
    public static IEndpointRouteBuilder MapTokensApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/tokens").WithTags("Tokens");

        group.MapPost("/", LoginAsync)
            .WithValidation<LoginRequest>()
            .WithSummary("Log in: starts a device session and returns its tokens");

        return app;
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> LoginAsync(
        LoginRequest request,
        IdentityDbContext db,
        PasswordService passwords,
        DeviceSessionService sessions,
        CancellationToken cancellationToken)
    {
        var username = UserRules.NormalizeUsername(request.Username!);
        var user = await db.Users.FirstOrDefaultAsync(user => user.Username == username, cancellationToken);
        var (isValid, rehashNeeded) = passwords.Verify(user, request.Password!);
        if (!isValid)
        {
            return InvalidCredentials();
        }

        if (rehashNeeded)
        {
            user!.PasswordHash = passwords.Hash(user, request.Password!);
        }

        return TypedResults.Ok(await sessions.StartAsync(user!.Id, request.DeviceName, cancellationToken));
    }

    /// <summary>One answer for an unknown user and a wrong password, so neither reveals which it was.</summary>
    private static ProblemHttpResult InvalidCredentials() => TypedResults.Problem(
        statusCode: StatusCodes.Status401Unauthorized,
        title: "Invalid credentials",
        detail: "The username or password is incorrect.");
}
