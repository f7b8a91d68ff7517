namespace Yac.Identity.Users;

/// <summary>An account. <see cref="Username"/> is stored lower-case and is unique.</summary>
public sealed class User
{
    public Guid Id { get; init; }

    public required string Username { get; init; }

    public required string DisplayName { get; set; }

    /// <summary>ASP.NET Core PasswordHasher output (PBKDF2); never logged, never returned.</summary>
    public required string PasswordHash { get; set; }

    public DateTimeOffset CreatedAt { get; init; }
}
