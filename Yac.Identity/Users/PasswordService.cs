using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;

namespace Yac.Identity.Users;

/// <summary>
/// Hashes and checks passwords with ASP.NET Core's PasswordHasher (PBKDF2-HMAC-SHA512, iterations
/// from <see cref="IdentityServiceOptions.PasswordHashIterations"/>). Checking a password of a user
/// who does not exist costs the same as for one who does, so timing does not reveal usernames.
/// <para>
/// A hash is ~0.1 s of CPU on a thread. At most one per core runs at once; the others wait for a
/// slot without holding a thread, so a flood of logins queues here instead of taking every thread
/// of the pool: the service's health endpoint, its token refreshes and the JWKS still answer, and a
/// caller probing it does not take a busy Identity for a dead one.
/// </para>
/// </summary>
public sealed class PasswordService : IDisposable
{
    private static readonly User s_decoyUser = new() { Username = "decoy", DisplayName = "decoy", PasswordHash = "" };

    private readonly IPasswordHasher<User> _hasher;
    private readonly string _decoyHash;
    private readonly SemaphoreSlim _slots = new(Environment.ProcessorCount, Environment.ProcessorCount);

    public PasswordService(IPasswordHasher<User> hasher)
    {
        _hasher = hasher;
        _decoyHash = hasher.HashPassword(s_decoyUser, Convert.ToHexString(RandomNumberGenerator.GetBytes(16)));
    }

    public Task<string> HashAsync(User user, string password, CancellationToken cancellationToken) =>
        InSlotAsync(() => _hasher.HashPassword(user, password), cancellationToken);

    /// <returns>Whether the password is right, and whether its hash should be renewed (older parameters).</returns>
    public Task<(bool IsValid, bool RehashNeeded)> VerifyAsync(User? user, string password, CancellationToken cancellationToken) =>
        InSlotAsync(() =>
        {
            if (user is null)
            {
                _hasher.VerifyHashedPassword(s_decoyUser, _decoyHash, password);
                return (false, false);
            }

            var result = _hasher.VerifyHashedPassword(user, user.PasswordHash, password);
            return (result != PasswordVerificationResult.Failed, result == PasswordVerificationResult.SuccessRehashNeeded);
        }, cancellationToken);

    public void Dispose() => _slots.Dispose();

    private async Task<T> InSlotAsync<T>(Func<T> hash, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            return hash();
        }
        finally
        {
            _slots.Release();
        }
    }
}
