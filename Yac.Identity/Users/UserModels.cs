using System.Text.RegularExpressions;
using Yac.Identity.Validation;
using Yac.ServiceDefaults.Validation;

namespace Yac.Identity.Users;

/// <summary>POST /api/users.</summary>
public sealed record RegisterRequest(string? Username, string? Password, string? DisplayName) : IValidatableRequest
{
    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        UserRules.ValidateUsername(Username, errors);
        UserRules.ValidatePassword(Password, errors);
        UserRules.ValidateName(DisplayName, "displayName", errors);
        return errors;
    }
}

/// <summary>A user as the API shows it.</summary>
public sealed record UserResponse(Guid Id, string Username, string DisplayName, DateTimeOffset CreatedAt)
{
    public static UserResponse From(User user) => new(user.Id, user.Username, user.DisplayName, user.CreatedAt);
}

/// <summary>The contract's rules for account fields.</summary>
public static partial class UserRules
{
    public const int UsernameMinLength = 3;
    public const int UsernameMaxLength = 32;
    public const int PasswordMinLength = 8;
    public const int PasswordMaxLength = 128;
    public const int DisplayNameMinLength = 1;
    public const int DisplayNameMaxLength = 64;

    /// <summary>Usernames are compared and stored lower-case; upper-case input is accepted and folded.</summary>
    public static string NormalizeUsername(string username) => username.ToLowerInvariant();

    public static bool IsValidUsername(string? username) => username is not null && UsernamePattern().IsMatch(username);

    public static void ValidateUsername(string? username, Dictionary<string, string[]> errors)
    {
        if (!IsValidUsername(username))
        {
            errors["username"] = [$"Username must be {UsernameMinLength}-{UsernameMaxLength} characters of a-z, 0-9, '_', '.', '-'."];
        }
    }

    public static void ValidatePassword(string? password, Dictionary<string, string[]> errors)
    {
        if (password is null || password.Length is < PasswordMinLength or > PasswordMaxLength)
        {
            errors["password"] = [$"Password must be {PasswordMinLength}-{PasswordMaxLength} characters."];
        }
    }

    /// <summary>An optional name people read (display name, device name): <see cref="TextRules.CheckText"/>, 1-64 characters.</summary>
    public static void ValidateName(string? name, string field, Dictionary<string, string[]> errors)
    {
        if (name is not null && TextRules.CheckText(name, DisplayNameMinLength, DisplayNameMaxLength) is var problem and not TextProblem.None)
        {
            errors[field] = [TextRules.Describe(problem, field, DisplayNameMinLength, DisplayNameMaxLength)];
        }
    }

    [GeneratedRegex("^[a-zA-Z0-9_.-]{3,32}$", RegexOptions.CultureInvariant)]
    private static partial Regex UsernamePattern();
}
