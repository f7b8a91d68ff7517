using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Yac.Bench.Systems.Yac;

/// <summary>
/// Creates the bench's users (register, then log in) and group chats through YAC's REST contract,
/// and keeps the access tokens fresh. Users and chats are created once per run and reused by every
/// scenario: chat <c>c</c> always holds users <c>c*N .. c*N+N-1</c>.
/// </summary>
public sealed class YacAccounts(YacEndpoints endpoints) : IDisposable
{
    private const string Password = "bench-password-1";
    private const int Parallelism = 4;
    private static readonly TimeSpan s_refreshAfter = TimeSpan.FromMinutes(8);

    private readonly string _runId = Guid.NewGuid().ToString("N")[..8];
    private readonly HttpClient _identity = new() { BaseAddress = endpoints.Identity, Timeout = TimeSpan.FromSeconds(60) };
    private readonly HttpClient _chat = new() { BaseAddress = endpoints.Chat, Timeout = TimeSpan.FromSeconds(60) };
    private readonly List<Account> _accounts = [];
    private readonly List<string> _chatIds = [];

    public IReadOnlyList<Account> Accounts => _accounts;

    public IReadOnlyList<string> ChatIds => _chatIds;

    /// <summary>Makes sure at least <paramref name="users"/> users exist in chats of <paramref name="membersPerChat"/>, with fresh tokens.</summary>
    public async Task EnsureAsync(int users, int membersPerChat, Action<string>? progress, CancellationToken cancellationToken)
    {
        if (_accounts.Count < users)
        {
            var created = 0;
            var missing = Enumerable.Range(_accounts.Count, users - _accounts.Count).ToList();
            var results = new Account[missing.Count];
            await Parallel.ForEachAsync(
                missing.Select((user, position) => (user, position)),
                new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
                async (item, token) =>
                {
                    results[item.position] = await RegisterAndLogInAsync($"b{_runId}u{item.user}", token);
                    var done = Interlocked.Increment(ref created);
                    if (done % 100 == 0)
                    {
                        progress?.Invoke($"registered and logged in {done}/{missing.Count} users");
                    }
                });
            _accounts.AddRange(results);
        }

        await RefreshStaleTokensAsync(users, cancellationToken);

        var chats = users / membersPerChat;
        for (var chat = _chatIds.Count; chat < chats; chat++)
        {
            var members = _accounts.Skip(chat * membersPerChat).Take(membersPerChat).ToList();
            _chatIds.Add(await CreateGroupChatAsync(members[0], members.Skip(1), chat, cancellationToken));
        }
    }

    public void Dispose()
    {
        _identity.Dispose();
        _chat.Dispose();
    }

    private async Task<Account> RegisterAndLogInAsync(string username, CancellationToken cancellationToken)
    {
        using (var registered = await _identity.PostAsJsonAsync("/api/users", new { username, password = Password }, cancellationToken))
        {
            await EnsureSuccessAsync(registered, "register", cancellationToken);
        }

        while (true)
        {
            using var response = await _identity.PostAsJsonAsync("/api/tokens", new { username, password = Password, deviceName = "yac-bench" }, cancellationToken);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                // Login is rate limited by design; provisioning is not what the bench measures.
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), cancellationToken);
                continue;
            }

            await EnsureSuccessAsync(response, "log in", cancellationToken);
            var tokens = await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken)
                ?? throw new InvalidOperationException("POST /api/tokens returned no body.");
            return new Account(tokens.UserId, tokens.AccessToken, tokens.RefreshToken, DateTimeOffset.UtcNow);
        }
    }

    private async Task RefreshStaleTokensAsync(int users, CancellationToken cancellationToken)
    {
        var stale = Enumerable.Range(0, users).Where(user => DateTimeOffset.UtcNow - _accounts[user].IssuedAt > s_refreshAfter).ToList();
        await Parallel.ForEachAsync(
            stale,
            new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (user, token) =>
            {
                using var response = await _identity.PostAsJsonAsync("/api/tokens/refresh", new { refreshToken = _accounts[user].RefreshToken }, token);
                await EnsureSuccessAsync(response, "refresh a token", token);
                var tokens = await response.Content.ReadFromJsonAsync<TokenResponse>(token)
                    ?? throw new InvalidOperationException("POST /api/tokens/refresh returned no body.");
                lock (_accounts)
                {
                    _accounts[user] = new Account(tokens.UserId, tokens.AccessToken, tokens.RefreshToken, DateTimeOffset.UtcNow);
                }
            });
    }

    private async Task<string> CreateGroupChatAsync(Account owner, IEnumerable<Account> others, int chat, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chats")
        {
            Content = JsonContent.Create(new
            {
                kind = "group",
                title = string.Create(CultureInfo.InvariantCulture, $"bench {_runId} chat {chat}"),
                memberIds = others.Select(account => account.UserId).ToArray(),
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", owner.AccessToken);
        using var response = await _chat.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, "create a chat", cancellationToken);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return body.RootElement.GetProperty("id").GetString() ?? throw new InvalidOperationException("The created chat has no id.");
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new InvalidOperationException($"Could not {what}: {(int)response.StatusCode} {body}");
        }
    }

    public sealed record Account(string UserId, string AccessToken, string RefreshToken, DateTimeOffset IssuedAt);

    private sealed record TokenResponse(string AccessToken, string RefreshToken, string UserId);
}
