using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Yac.Contracts;
using Yac.Gateway.Delivery;
using Yac.Gateway.Dependencies;

namespace Yac.Gateway.Chats;

/// <summary>How a call to ChatService ended, in the terms of the WebSocket contract's error codes.</summary>
internal enum ChatCallStatus
{
    Ok,
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    RateLimited,
    Unavailable,
}

internal sealed record ChatCallResult<T>(ChatCallStatus Status, T? Value);

/// <summary>
/// What the gateway reads of ChatService's <c>chatSummary</c>: the chat's last seq and rev when the
/// list was read, and the rev at which the user joined (from which on they receive every change).
/// </summary>
internal sealed record ChatSummary(Guid Id, long LastSeq, long Rev, long JoinedRev);

/// <summary>A page of a chat's change log, each change ready for sockets.</summary>
internal sealed record ChangeBatch(IReadOnlyList<ChatChange> Changes, bool HasMore);

internal sealed record MarkReadRequest(long Seq);

/// <summary>
/// ChatService's REST API, called with the socket user's own token so ChatService applies exactly
/// the same rules as for a REST client. The standard resilience handler retries transient failures;
/// that is safe for every call made here: a send repeats with the same clientMsgId (same message,
/// nothing stored twice), a read position never moves backwards, and GETs are reads.
/// A singleton over a named client from <see cref="IHttpClientFactory"/>, so that handlers rotate
/// even though the callers (sockets, the pool) live long.
/// <para>
/// With <see cref="Sockets.GatewayOptions.FailFastWhileDown"/>, while ChatService is down (<see cref="DependencyMonitor"/>) every call answers
/// <see cref="ChatCallStatus.Unavailable"/> at once, and a call in flight when it goes down ends then:
/// a send, a read or a socket's upgrade fails in seconds, not at the resilience handler's timeouts.
/// </para>
/// </summary>
internal sealed class ChatServiceClient(IHttpClientFactory httpClientFactory, DependencyMonitor dependencies)
{
    public const string HttpClientName = "chat";
    public const int MaxChangesPage = 500;

    /// <summary>Many sockets' sends in one request (see <see cref="ChatSendBatcher"/>); each carries its user's token.</summary>
    public async Task<ChatCallResult<SendBatchResponse>> SendBatchAsync(IReadOnlyList<BatchedSend> sends, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/internal/messages/batch")
        {
            Content = JsonContent.Create(new SendBatchRequest(sends), ContractsJsonContext.Default.SendBatchRequest),
        };
        return await CallAsync(request, ContractsJsonContext.Default.SendBatchResponse, cancellationToken);
    }

    public async Task<ChatCallResult<List<ChatSummary>>> GetChatsAsync(string accessToken, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, "/api/chats", accessToken);
        return await CallAsync(request, GatewayJsonContext.Default.ListChatSummary, cancellationToken);
    }

    /// <summary>
    /// The chat's changes after <paramref name="afterRev"/>, or (<paramref name="afterSeq"/> given) from the
    /// one that created the first message after that seq. A change that cannot be read is a failed page:
    /// skipping it would leave a gap.
    /// </summary>
    public async Task<ChatCallResult<ChangeBatch>> GetChangesAsync(
        string accessToken, Guid chatId, long afterRev, long? afterSeq, CancellationToken cancellationToken)
    {
        var cursor = afterSeq is { } seq ? $"afterSeq={seq}" : $"afterRev={afterRev}";
        using var request = Request(HttpMethod.Get, $"/api/chats/{chatId:D}/changes?{cursor}&limit={MaxChangesPage}", accessToken);
        var page = await CallAsync(request, ContractsJsonContext.Default.ChangePage, cancellationToken);
        if (page.Status != ChatCallStatus.Ok)
        {
            return new ChatCallResult<ChangeBatch>(page.Status, null);
        }

        var changes = new List<ChatChange>(page.Value!.Changes.Count);
        foreach (var element in page.Value.Changes)
        {
            if (ChangeParser.FromFrame(element) is not { } change)
            {
                return new ChatCallResult<ChangeBatch>(ChatCallStatus.Unavailable, null);
            }

            changes.Add(change);
        }

        return new ChatCallResult<ChangeBatch>(ChatCallStatus.Ok, new ChangeBatch(changes, page.Value.HasMore));
    }

    /// <summary>The latest rev of each of <paramref name="chatIds"/> (reconciliation; see WsPool).</summary>
    public async Task<ChatCallResult<ChatRevsResponse>> GetRevsAsync(string accessToken, IReadOnlyList<Guid> chatIds, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Post, "/internal/chats/revs", accessToken);
        request.Content = JsonContent.Create(new ChatRevsRequest(chatIds), ContractsJsonContext.Default.ChatRevsRequest);
        return await CallAsync(request, ContractsJsonContext.Default.ChatRevsResponse, cancellationToken);
    }

    public async Task<ChatCallStatus> MarkReadAsync(string accessToken, Guid chatId, long seq, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Post, $"/api/chats/{chatId:D}/read", accessToken);
        request.Content = JsonContent.Create(new MarkReadRequest(seq), GatewayJsonContext.Default.MarkReadRequest);
        var result = await CallAsync<object>(request, jsonTypeInfo: null, cancellationToken);
        return result.Status;
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string accessToken)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return request;
    }

    private async Task<ChatCallResult<T>> CallAsync<T>(
        HttpRequestMessage request, JsonTypeInfo<T>? jsonTypeInfo, CancellationToken cancellationToken)
    {
        var chat = dependencies.Chat;
        if (dependencies.FailFast && !await chat.IsAvailableAsync(cancellationToken))
        {
            return new ChatCallResult<T>(ChatCallStatus.Unavailable, default);
        }

        var http = httpClientFactory.CreateClient(HttpClientName);
        using var whileAvailable = dependencies.FailFast ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, chat.WhileAvailable) : null;
        var callToken = whileAvailable?.Token ?? cancellationToken;
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, callToken);
            if (response.StatusCode < HttpStatusCode.InternalServerError)
            {
                chat.RecordSuccess();
            }

            var status = Map(response.StatusCode);
            if (status != ChatCallStatus.Ok || jsonTypeInfo is null)
            {
                return new ChatCallResult<T>(status, default);
            }

            var value = await response.Content.ReadFromJsonAsync(jsonTypeInfo, callToken);
            return new ChatCallResult<T>(value is null ? ChatCallStatus.Unavailable : ChatCallStatus.Ok, value);
        }
        catch (HttpRequestException)
        {
            return new ChatCallResult<T>(ChatCallStatus.Unavailable, default);
        }
        catch (JsonException)
        {
            return new ChatCallResult<T>(ChatCallStatus.Unavailable, default);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The resilience handler's timeouts, or ChatService went down meanwhile.
            return new ChatCallResult<T>(ChatCallStatus.Unavailable, default);
        }
        catch (Polly.Timeout.TimeoutRejectedException)
        {
            return new ChatCallResult<T>(ChatCallStatus.Unavailable, default);
        }
        catch (Polly.CircuitBreaker.BrokenCircuitException)
        {
            return new ChatCallResult<T>(ChatCallStatus.Unavailable, default);
        }
        catch (Polly.RateLimiting.RateLimiterRejectedException)
        {
            // The resilience handler's limit on concurrent requests to ChatService.
            return new ChatCallResult<T>(ChatCallStatus.RateLimited, default);
        }
    }

    /// <summary>A status code of ChatService's (of a response, or of one send in a batch) in the contract's terms.</summary>
    public static ChatCallStatus Map(HttpStatusCode statusCode) => statusCode switch
    {
        >= HttpStatusCode.OK and < HttpStatusCode.MultipleChoices => ChatCallStatus.Ok,
        HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity => ChatCallStatus.BadRequest,
        HttpStatusCode.Unauthorized => ChatCallStatus.Unauthorized,
        HttpStatusCode.Forbidden => ChatCallStatus.Forbidden,
        HttpStatusCode.NotFound => ChatCallStatus.NotFound,
        HttpStatusCode.TooManyRequests => ChatCallStatus.RateLimited,
        _ => ChatCallStatus.Unavailable,
    };
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(MarkReadRequest))]
[JsonSerializable(typeof(List<ChatSummary>))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
