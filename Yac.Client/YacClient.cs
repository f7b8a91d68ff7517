using System.Globalization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Yac.Client;

/// <summary>
/// YAC's .NET client: the REST API (accounts, chats, members, history, reads) with typed results
/// and problem details as <see cref="YacApiException"/>s, and <see cref="ConnectAsync"/> for a live
/// session. Thread-safe; make one per signed-in user and keep it.
/// <code>
/// using var yac = new YacClient(new YacClientOptions
/// {
///     BaseAddress = new Uri("http://localhost:5080"),
///     Credentials = new YacCredentials("alice", password),
/// });
/// await using var session = await yac.ConnectAsync(cancellationToken: ct);
/// await foreach (var e in session.ReadAllAsync(ct)) { ... }
/// </code>
/// </summary>
public sealed class YacClient : IDisposable
{
    private readonly HttpClient? _ownedHttp;
    private readonly YacHttp _http;
    private readonly TokenManager? _tokenManager;
    private readonly IYacTokenProvider? _tokens;

    /// <summary>Creates the client; <paramref name="httpClient"/> is used as given (its BaseAddress is ignored), or one is made and owned.</summary>
    public YacClient(YacClientOptions options, HttpClient? httpClient = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.BaseAddress);
        Options = options;
        BaseAddress = options.BaseAddress.AbsoluteUri.EndsWith('/') ? options.BaseAddress : new Uri(options.BaseAddress.AbsoluteUri + "/");
        if (httpClient is null)
        {
            _ownedHttp = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
            {
                Timeout = Timeout.InfiniteTimeSpan,
            };
        }

        _http = new YacHttp(httpClient ?? _ownedHttp!, BaseAddress, options.RequestTimeout);
        if (options.TokenProvider is { } provider)
        {
            _tokens = provider;
        }
        else if (options.Credentials is not null || options.RefreshToken is not null)
        {
            _tokenManager = new TokenManager(
                _http, options.Credentials, options.RefreshToken, options.TokensChanged, options.TokenRenewalMargin, options.TimeProvider);
            _tokens = _tokenManager;
        }

        LoggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
    }

    /// <summary>The gateway's address (ends with <c>/</c>).</summary>
    public Uri BaseAddress { get; }

    /// <summary>The signed-in user (built-in token provider, once signed in).</summary>
    public Guid? UserId => _tokenManager?.Tokens?.UserId;

    /// <summary>The device session (built-in token provider, once signed in).</summary>
    public Guid? DeviceId => _tokenManager?.Tokens?.DeviceId;

    internal YacClientOptions Options { get; }

    internal ILoggerFactory LoggerFactory { get; }

    internal IYacTokenProvider Tokens =>
        _tokens ?? throw new InvalidOperationException("This YacClient has no credentials, refresh token or token provider.");

    // --- Accounts ----------------------------------------------------------------------------

    /// <summary><c>POST /api/users</c>: registers a user (no sign-in needed). 400 invalid, 409 taken.</summary>
    public Task<YacUser> RegisterAsync(string username, string password, string? displayName = null, CancellationToken cancellationToken = default) =>
        _http.SendAsync(
            HttpMethod.Post, "api/users", YacHttp.Body(new RegisterBody(username, password, displayName), YacJson.Wire.RegisterBody),
            accessToken: null, YacJson.Wire.YacUser, cancellationToken);

    /// <summary>
    /// <c>POST /api/tokens</c> with <see cref="YacClientOptions.Credentials"/>: a new device session.
    /// Calls that need a token sign in by themselves the first time; call this to sign in again
    /// after the session ended (logout, revoked).
    /// </summary>
    public Task<YacTokens> SignInAsync(CancellationToken cancellationToken = default) =>
        (_tokenManager ?? throw new InvalidOperationException("SignInAsync needs YacClientOptions.Credentials."))
            .SignInAsync(cancellationToken);

    /// <summary><c>POST /api/logout</c>: ends this device session (its sockets close with 4001, its tokens stop working).</summary>
    public async Task LogoutAsync(CancellationToken cancellationToken = default)
    {
        await SendAuthorizedAsync(HttpMethod.Post, "api/logout", null, cancellationToken);
        _tokenManager?.Forget();
    }

    /// <summary><c>GET /api/users/me</c>.</summary>
    public Task<YacUser> GetMeAsync(CancellationToken cancellationToken = default) =>
        SendAuthorizedAsync(HttpMethod.Get, "api/users/me", null, YacJson.Wire.YacUser, cancellationToken);

    /// <summary><c>GET /api/users/{id}</c>; <see cref="YacNotFoundException"/> if unknown.</summary>
    public Task<YacUser> GetUserAsync(Guid userId, CancellationToken cancellationToken = default) =>
        SendAuthorizedAsync(HttpMethod.Get, $"api/users/{userId}", null, YacJson.Wire.YacUser, cancellationToken);

    /// <summary><c>GET /api/users?username=</c>: the user with that name (any case), or null.</summary>
    public async Task<YacUser?> FindUserAsync(string username, CancellationToken cancellationToken = default)
    {
        var users = await SendAuthorizedAsync(
            HttpMethod.Get, $"api/users?username={Uri.EscapeDataString(username)}", null, YacJson.Wire.ListYacUser, cancellationToken);
        return users.FirstOrDefault();
    }

    // --- Chats and members -------------------------------------------------------------------

    /// <summary><c>POST /api/chats</c>: a new chat (a direct chat that exists is returned as it is).</summary>
    public Task<YacChat> CreateChatAsync(YacCreateChat chat, CancellationToken cancellationToken = default) =>
        SendAuthorizedAsync(HttpMethod.Post, "api/chats", YacHttp.Body(chat, YacJson.Wire.YacCreateChat), YacJson.Wire.YacChat, cancellationToken);

    /// <summary><c>GET /api/chats</c>: the caller's chats, most recent activity first.</summary>
    public async Task<IReadOnlyList<YacChatSummary>> GetChatsAsync(CancellationToken cancellationToken = default) =>
        await SendAuthorizedAsync(HttpMethod.Get, "api/chats", null, YacJson.Wire.ListYacChatSummary, cancellationToken);

    /// <summary><c>GET /api/chats/{id}</c>.</summary>
    public Task<YacChat> GetChatAsync(Guid chatId, CancellationToken cancellationToken = default) =>
        SendAuthorizedAsync(HttpMethod.Get, $"api/chats/{chatId}", null, YacJson.Wire.YacChat, cancellationToken);

    /// <summary>
    /// v1.1's <c>PATCH /api/chats/{id}</c>: a group's new title and/or visibility (<c>private</c> or
    /// <c>public</c>; null: unchanged). Owner or admin only (<see cref="YacForbiddenException"/> otherwise).
    /// </summary>
    public Task<YacChat> UpdateChatAsync(Guid chatId, string? title = null, string? visibility = null, CancellationToken cancellationToken = default) =>
        SendAuthorizedAsync(
            HttpMethod.Patch, $"api/chats/{chatId}",
            YacHttp.Body(new UpdateChatBody(title, visibility), YacJson.Wire.UpdateChatBody), YacJson.Wire.YacChat, cancellationToken);

    /// <summary><c>PUT /api/chats/{id}/members/{userId}</c>: add someone (owner or admin), or join a public chat yourself.</summary>
    public Task AddMemberAsync(Guid chatId, Guid userId, CancellationToken cancellationToken = default) =>
        SendAuthorizedAsync(HttpMethod.Put, $"api/chats/{chatId}/members/{userId}", null, cancellationToken);

    /// <summary><c>DELETE /api/chats/{id}/members/{userId}</c>: remove someone, or leave (your own id).</summary>
    public Task RemoveMemberAsync(Guid chatId, Guid userId, CancellationToken cancellationToken = default) =>
        SendAuthorizedAsync(HttpMethod.Delete, $"api/chats/{chatId}/members/{userId}", null, cancellationToken);

    // --- Messages ----------------------------------------------------------------------------

    /// <summary>
    /// <c>POST /api/chats/{id}/messages</c>: sends over REST (no socket needed). Sending again with
    /// the same <paramref name="clientMsgId"/> returns the original message and stores nothing.
    /// For a live app prefer <see cref="YacSession.SendAsync(Guid, string, CancellationToken)"/>.
    /// </summary>
    public Task<YacMessage> SendMessageAsync(Guid chatId, string text, string? clientMsgId = null, CancellationToken cancellationToken = default) =>
        SendAuthorizedAsync(
            HttpMethod.Post, $"api/chats/{chatId}/messages",
            YacHttp.Body(new SendBody(clientMsgId ?? NewClientMsgId(), text), YacJson.Wire.SendBody), YacJson.Wire.YacMessage, cancellationToken);

    /// <summary>
    /// <c>POST /api/chats/{id}/messages</c> with v1.1's <c>replyToSeq</c>: a reply to a message of the
    /// same chat. Idempotent by <paramref name="clientMsgId"/> like <see cref="SendMessageAsync"/>.
    /// </summary>
    public Task<YacMessage> ReplyAsync(Guid chatId, long replyToSeq, string text, string? clientMsgId = null, CancellationToken cancellationToken = default) =>
        SendAuthorizedAsync(
            HttpMethod.Post, $"api/chats/{chatId}/messages",
            YacHttp.Body(new SendBody(clientMsgId ?? NewClientMsgId(), text, replyToSeq), YacJson.Wire.SendBody), YacJson.Wire.YacMessage, cancellationToken);

    /// <summary>v1.1's <c>PATCH /api/chats/{id}/messages/{seq}</c>: your message's new text (its <c>editedAt</c> set).</summary>
    public Task<YacMessage> EditMessageAsync(Guid chatId, long seq, string text, CancellationToken cancellationToken = default) =>
        SendAuthorizedAsync(
            HttpMethod.Patch, $"api/chats/{chatId}/messages/{seq.ToString(CultureInfo.InvariantCulture)}",
            YacHttp.Body(new EditBody(text), YacJson.Wire.EditBody), YacJson.Wire.YacMessage, cancellationToken);

    /// <summary>v1.1's <c>DELETE /api/chats/{id}/messages/{seq}</c>: leaves a tombstone; idempotent.</summary>
    public Task DeleteMessageAsync(Guid chatId, long seq, CancellationToken cancellationToken = default) =>
        SendAuthorizedAsync(HttpMethod.Delete, $"api/chats/{chatId}/messages/{seq.ToString(CultureInfo.InvariantCulture)}", null, cancellationToken);

    /// <summary>v1.1's <c>PUT .../messages/{seq}/reactions/{emoji}</c>: idempotent.</summary>
    public Task AddReactionAsync(Guid chatId, long seq, string emoji, CancellationToken cancellationToken = default) =>
        SendAuthorizedAsync(HttpMethod.Put, ReactionPath(chatId, seq, emoji), null, cancellationToken);

    /// <summary>v1.1's <c>DELETE .../messages/{seq}/reactions/{emoji}</c>: idempotent.</summary>
    public Task RemoveReactionAsync(Guid chatId, long seq, string emoji, CancellationToken cancellationToken = default) =>
        SendAuthorizedAsync(HttpMethod.Delete, ReactionPath(chatId, seq, emoji), null, cancellationToken);

    /// <summary>
    /// v1.1's <c>GET /api/search?q=</c>: messages of your chats (or of <paramref name="chatId"/>)
    /// matching <paramref name="query"/>, newest first; deleted messages never.
    /// </summary>
    public async Task<IReadOnlyList<YacMessage>> SearchAsync(string query, Guid? chatId = null, int? limit = null, CancellationToken cancellationToken = default)
    {
        var path = "api/search?q=" + Uri.EscapeDataString(query)
            + (chatId is { } chat ? "&chatId=" + chat.ToString("D") : "")
            + (limit is { } pageSize ? "&limit=" + pageSize.ToString(CultureInfo.InvariantCulture) : "");
        return (await SendAuthorizedAsync(HttpMethod.Get, path, null, YacJson.Wire.SearchResults, cancellationToken)).Results;
    }

    private static string ReactionPath(Guid chatId, long seq, string emoji) =>
        $"api/chats/{chatId}/messages/{seq.ToString(CultureInfo.InvariantCulture)}/reactions/{Uri.EscapeDataString(emoji)}";

    /// <summary>
    /// <c>GET /api/chats/{id}/messages</c>: a page of history, ascending by seq. Neither cursor: the
    /// newest page; <paramref name="afterSeq"/>: walk forward; <paramref name="beforeSeq"/>: walk backward.
    /// </summary>
    public Task<YacMessagePage> GetMessagesAsync(
        Guid chatId, long? afterSeq = null, long? beforeSeq = null, int? limit = null, CancellationToken cancellationToken = default)
    {
        var query = new List<string>();
        if (afterSeq is { } after)
        {
            query.Add("afterSeq=" + after.ToString(CultureInfo.InvariantCulture));
        }

        if (beforeSeq is { } before)
        {
            query.Add("beforeSeq=" + before.ToString(CultureInfo.InvariantCulture));
        }

        if (limit is { } pageSize)
        {
            query.Add("limit=" + pageSize.ToString(CultureInfo.InvariantCulture));
        }

        var path = $"api/chats/{chatId}/messages" + (query.Count == 0 ? "" : "?" + string.Join('&', query));
        return SendAuthorizedAsync(HttpMethod.Get, path, null, YacJson.Wire.YacMessagePage, cancellationToken);
    }

    /// <summary><c>POST /api/chats/{id}/read</c>: moves your read position forward to <paramref name="seq"/>.</summary>
    public Task MarkReadAsync(Guid chatId, long seq, CancellationToken cancellationToken = default) =>
        SendAuthorizedAsync(HttpMethod.Post, $"api/chats/{chatId}/read", YacHttp.Body(new ReadBody(seq), YacJson.Wire.ReadBody), cancellationToken);

    /// <summary>v1.1's <c>GET /api/chats/{id}/changes?afterRev=</c>: the session's gap fill once frames carry revs.</summary>
    internal Task<ChangesPage> GetChangesAsync(Guid chatId, long afterRev, int limit, CancellationToken cancellationToken) =>
        SendAuthorizedAsync(
            HttpMethod.Get,
            $"api/chats/{chatId}/changes?afterRev={afterRev.ToString(CultureInfo.InvariantCulture)}&limit={limit.ToString(CultureInfo.InvariantCulture)}",
            null, YacJson.Wire.ChangesPage, cancellationToken);

    // --- Live session ------------------------------------------------------------------------

    /// <summary>
    /// Opens a live session: connects <c>/ws</c>, says <c>resume</c>, and keeps reconnecting until it
    /// is disposed or the device session ends. Completes once the first socket said <c>hello</c>
    /// (transient failures are retried meanwhile; cancel to give up).
    /// </summary>
    public async Task<YacSession> ConnectAsync(YacSessionOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new YacSessionOptions();
        var positions = options.Positions
            ?? (await GetChatsAsync(cancellationToken)).ToDictionary(chat => chat.Id, chat => new YacChatPosition(chat.LastSeq, chat.Rev));
        var session = new YacSession(this, options, positions);
        try
        {
            await session.StartAsync(cancellationToken);
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    /// <summary>A new clientMsgId (32 hex digits).</summary>
    public static string NewClientMsgId() => Guid.NewGuid().ToString("N");

    // --- Plumbing ----------------------------------------------------------------------------

    private async Task<T> SendAuthorizedAsync<T>(HttpMethod method, string path, byte[]? body, JsonTypeInfo<T> resultType, CancellationToken cancellationToken)
    {
        var token = await Tokens.GetAccessTokenAsync(cancellationToken);
        try
        {
            return await _http.SendAsync(method, path, body, token.Value, resultType, cancellationToken);
        }
        catch (YacUnauthorizedException)
        {
            // Expired or refused: renew once and try again (a refused renewal throws to the caller).
            token = await Tokens.RenewAccessTokenAsync(token, cancellationToken);
            return await _http.SendAsync(method, path, body, token.Value, resultType, cancellationToken);
        }
    }

    private async Task SendAuthorizedAsync(HttpMethod method, string path, byte[]? body, CancellationToken cancellationToken)
    {
        var token = await Tokens.GetAccessTokenAsync(cancellationToken);
        try
        {
            await _http.SendAsync(method, path, body, token.Value, cancellationToken);
        }
        catch (YacUnauthorizedException)
        {
            token = await Tokens.RenewAccessTokenAsync(token, cancellationToken);
            await _http.SendAsync(method, path, body, token.Value, cancellationToken);
        }
    }

    /// <summary>Disposes the HttpClient this client made (not one that was passed in).</summary>
    public void Dispose()
    {
        _ownedHttp?.Dispose();
        _tokenManager?.Dispose();
    }
}
