using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Caching.Memory;

namespace Yac.ChatService.Users;

/// <summary>
/// Answers "does this user exist?" by asking Identity (the source of truth for users) with the
/// caller's own token. Users are never deleted, so a user once seen is remembered for a while and
/// adding a known user costs no call. Its client gives Identity a short budget
/// (<see cref="AttemptTimeout"/>, <see cref="TotalTimeout"/>): a request that needs a lookup while
/// Identity is down answers 503 within seconds, not after the default 30 s.
/// </summary>
public sealed partial class UserDirectory(HttpClient http, IMemoryCache knownUsers, ILogger<UserDirectory> logger)
{
    private const int MaxConcurrentLookups = 8;

    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(1.5);
    public static readonly TimeSpan TotalTimeout = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan s_rememberFor = TimeSpan.FromHours(1);

    /// <summary>The ids among <paramref name="userIds"/> that Identity does not know.</summary>
    /// <exception cref="UserDirectoryUnavailableException">Identity could not answer.</exception>
    public async Task<IReadOnlyList<Guid>> FindUnknownAsync(
        IEnumerable<Guid> userIds, AuthenticationHeaderValue callerToken, CancellationToken cancellationToken)
    {
        var toAsk = userIds.Distinct().Where(id => !knownUsers.TryGetValue(CacheKey(id), out _)).ToList();
        if (toAsk.Count == 0)
        {
            return [];
        }

        // A few lookups at a time: a 1000-member group must not fire 1000 requests at Identity at once.
        var unknown = new ConcurrentBag<Guid>();
        await Parallel.ForEachAsync(
            toAsk,
            new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentLookups, CancellationToken = cancellationToken },
            async (userId, token) =>
            {
                if (!await ExistsAsync(userId, callerToken, token))
                {
                    unknown.Add(userId);
                }
            });
        return [.. unknown];
    }

    private async Task<bool> ExistsAsync(Guid userId, AuthenticationHeaderValue callerToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/users/{userId:D}");
        request.Headers.Authorization = callerToken;
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or Polly.ExecutionRejectedException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Refused, timed out (an attempt or the whole budget), or the circuit is open.
            LogIdentityUnreachable(exception);
            throw new UserDirectoryUnavailableException(exception);
        }

        using (response)
        {
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    knownUsers.Set(CacheKey(userId), true, new MemoryCacheEntryOptions { SlidingExpiration = s_rememberFor, Size = 1 });
                    return true;
                case HttpStatusCode.NotFound:
                    return false;
                default:
                    LogIdentityRefused((int)response.StatusCode);
                    throw new UserDirectoryUnavailableException(null);
            }
        }
    }

    private static string CacheKey(Guid userId) => $"user:{userId:N}";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Identity could not be reached to check user ids")]
    private partial void LogIdentityUnreachable(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Identity answered {StatusCode} to a user lookup")]
    private partial void LogIdentityRefused(int statusCode);
}

/// <summary>Identity did not answer a user lookup; the request fails with 503 and nothing is stored.</summary>
public sealed class UserDirectoryUnavailableException(Exception? inner)
    : Exception("The user directory (Identity) is unavailable.", inner);
