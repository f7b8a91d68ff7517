using Yac.Identity.Users;
using Yac.Identity.Validation;

namespace Yac.Identity.Tokens;

/// <summary>POST /api/tokens.</summary>
public sealed record LoginRequest(string? Username, string? Password, string? DeviceName) : IValidatableRequest
{
    public Dictionary<string, string[]> Validate()
    {
        // Only the shape is checked here: a well-formed but wrong username or password is a 401,
        // the same answer whether the user exists or not.
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrEmpty(Username) || Username.Length > UserRules.UsernameMaxLength)
        {
            errors["username"] = [$"Username is required (at most {UserRules.UsernameMaxLength} characters)."];
        }

        if (string.IsNullOrEmpty(Password) || Password.Length > UserRules.PasswordMaxLength)
        {
            errors["password"] = [$"Password is required (at most {UserRules.PasswordMaxLength} characters)."];
        }

        UserRules.ValidateName(DeviceName, "deviceName", errors);
        return errors;
    }
}

/// <summary>POST /api/tokens/refresh.</summary>
public sealed record RefreshRequest(string? RefreshToken) : IValidatableRequest
{
    public Dictionary<string, string[]> Validate()
        => string.IsNullOrEmpty(RefreshToken)
            ? new() { ["refreshToken"] = ["Refresh token is required."] }
            : [];
}

/// <summary>The contract's token response; <see cref="ExpiresIn"/> is in seconds.</summary>
public sealed record TokenResponse(
    string AccessToken,
    string TokenType,
    int ExpiresIn,
    string RefreshToken,
    Guid UserId,
    Guid DeviceId);
