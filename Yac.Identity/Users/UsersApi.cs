using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Yac.Identity.Infrastructure;
using Yac.Identity.Validation;
using Yac.ServiceDefaults.Authentication;

namespace Yac.Identity.Users;

public static class UsersApi
{
    /// <summary>Registrations per client address (<c>Yac:RateLimits:registrations</c>).</summary>
    public const string RegistrationPolicy = "registrations";

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/users").WithTags("Users").RequireAuthorization();

        group.MapPost("/", RegisterAsync)
            .AllowAnonymous()
            .RequireRateLimiting(RegistrationPolicy)
            .WithValidation<RegisterRequest>()
            .WithSummary("Create an account");
        group.MapGet("/me", GetMeAsync).WithSummary("The signed-in user");
        group.MapGet("/{id:guid}", GetByIdAsync).WithSummary("A user by id");
        group.MapGet("/", FindByUsernameAsync).WithSummary("Users by exact username (case-insensitive): zero or one");

        return app;
    }

    private static async Task<Results<Created<UserResponse>, ProblemHttpResult>> RegisterAsync(
        RegisterRequest request,
        IdentityDbContext db,
        PasswordService passwords,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var username = UserRules.NormalizeUsername(request.Username!);
        var user = new User
        {
            Id = Guid.CreateVersion7(),
            Username = username,
            DisplayName = request.DisplayName ?? username,
            PasswordHash = "",
            CreatedAt = timeProvider.GetUtcNow(),
        };
        user.PasswordHash = await passwords.HashAsync(user, request.Password!, cancellationToken);
        db.Users.Add(user);

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (exception.InnerException is PostgresException
        {
            SqlState: PostgresErrorCodes.UniqueViolation,
            ConstraintName: UserConfiguration.UsernameIndex,
        })
        {
            // The unique index decides between racing registrations: exactly one wins.
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "Username taken",
                detail: $"The username '{username}' is already taken.");
        }

        return TypedResults.Created($"/api/users/{user.Id}", UserResponse.From(user));
    }

    private static async Task<Results<Ok<UserResponse>, NotFound>> GetMeAsync(
        ClaimsPrincipal principal, IdentityDbContext db, CancellationToken cancellationToken)
        => await GetByIdAsync(principal.GetUserId(), db, cancellationToken);

    private static async Task<Results<Ok<UserResponse>, NotFound>> GetByIdAsync(
        Guid id, IdentityDbContext db, CancellationToken cancellationToken)
    {
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(user => user.Id == id, cancellationToken);
        return user is null ? TypedResults.NotFound() : TypedResults.Ok(UserResponse.From(user));
    }

    private static async Task<Ok<UserResponse[]>> FindByUsernameAsync(
        string? username, IdentityDbContext db, CancellationToken cancellationToken)
    {
        if (!UserRules.IsValidUsername(username))
        {
            // No stored username can match one that breaks the rules.
            return TypedResults.Ok(Array.Empty<UserResponse>());
        }

        var normalized = UserRules.NormalizeUsername(username!);
        var users = await db.Users.AsNoTracking()
            .Where(user => user.Username == normalized)
            .Select(user => new UserResponse(user.Id, user.Username, user.DisplayName, user.CreatedAt))
            .ToArrayAsync(cancellationToken);
        return TypedResults.Ok(users);
    }
}
