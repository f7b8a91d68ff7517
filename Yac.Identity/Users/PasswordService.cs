using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;

namespace Yac.Identity.Users;

/// <summary>
/// Hashes and checks passwords with ASP.NET Core's PasswordHasher (PBKDF2-HMAC-SHA512, iterations
/// from <see cref="IdentityServiceOptions.PasswordHashIterations"/>). Checking a password of a user
/// who does not exist costs the same as for one who does, so timing does not reveal usernames.
/// </summary>
public sealed class PasswordService
{
    private static readonly User s_decoyUser = new() { Username = "decoy", DisplayName = "decoy", PasswordHash = "" };

    private readonly IPasswordHasher<User> _hasher;
    private readonly string _decoyHash;

    public PasswordService(IPasswordHasher<User> hasher)
    {
        _hasher = hasher;
        _decoyHash = hasher.HashPassword(s_decoyUser, Convert.ToHexString(RandomNumberGenerator.GetBytes(16)));
    }

    public string Hash(User user, string password) => _hasher.HashPassword(user, password);

    /// <returns>Whether the password is right, and whether its hash should be renewed (older parameters).</returns>
    public (bool IsValid, bool RehashNeeded) Verify(User? user, string password)
    {
        if (user is null)
        {
            _hasher.VerifyHashedPassword(s_decoyUser, _decoyHash, password);
            return (false, false);
        }

        var result = _hasher.VerifyHashedPassword(user, user.PasswordHash, password);
        return (result != PasswordVerificationResult.Failed, result == PasswordVerificationResult.SuccessRehashNeeded);
    }
}
