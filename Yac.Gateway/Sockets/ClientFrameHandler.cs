using System.Diagnostics;
using StackExchange.Redis;
using Yac.Contracts;
using Yac.Gateway.Chats;
using Yac.Gateway.Delivery;
using Yac.Gateway.Protocol;
using Yac.Gateway.Telemetry;
using Yac.ServiceDefaults.Authentication;

namespace Yac.Gateway.Sockets;

/// <summary>
/// Answers every client frame of the contract. <see cref="HandleAsync"/> runs on the socket's receive
/// loop, one frame at a time, and never waits for ChatService: <c>send</c> and <c>read</c> go to the
/// socket's <see cref="ChatCallQueue"/>, whose task calls <see cref="ForwardAsync"/> for them in order.
/// </summary>
internal sealed partial class ClientFrameHandler(
    ChatServiceClient chatService,
    ChatSendBatcher sends,
    IAccessTokenValidator tokenValidator,
    WsPool pool,
    RedisPublisher publisher,
    TimeProvider time,
    ILogger<ClientFrameHandler> logger)
{
    // One delegate for every socket (a method group converted at each call would allocate one per frame).
    private Func<ClientConnection, ClientFrame, CancellationToken, Task>? _forward;

    public async Task HandleAsync(ClientConnection connection, ReadOnlyMemory<byte> utf8, CancellationToken cancellationToken)
    {
        var frame = ClientFrameParser.Parse(utf8, out var error);
        if (frame is null)
        {
            GatewayTelemetry.FramesReceived.Add(1, new KeyValuePair<string, object?>("type", "invalid"));
            connection.RejectFrame(error!.Message, error.Reference);
            return;
        }

        GatewayTelemetry.FramesReceived.Add(1, new KeyValuePair<string, object?>("type", frame.Type));
        if (frame is SendFrame or ReadFrame or TypingFrame && connection.TryMarkActive())
        {
            // A client that acts before (or without) resuming wants what is live now.
            await pool.EndResumeWindowAsync(connection);
        }

        switch (frame)
        {
            case SendFrame send:
                QueueSend(connection, send);
                break;
            case ReadFrame read:
                QueueRead(connection, read);
                break;
            case TypingFrame typing:
                await TypingAsync(connection, typing);
                break;
            case ResumeFrame resume when !connection.TryTakeResumePermit():
                connection.TryEnqueue(ServerFrames.Error(ErrorCodes.RateLimited, "Too many resumes on this socket; wait a minute, or keep the positions you already have."));
                break;
            case ResumeFrame resume:
                await pool.ResumeAsync(connection, resume);
                break;
            case PingFrame ping:
                connection.TryEnqueue(ServerFrames.Pong(ping.RawId));
                break;
            case AuthFrame auth:
                await AuthAsync(connection, auth, cancellationToken);
                break;
        }
    }

    private void QueueSend(ClientConnection connection, SendFrame send)
    {
        if (!connection.TryTakeSendToken())
        {
            connection.TryEnqueue(ServerFrames.Error(ErrorCodes.RateLimited, "Too many frames; slow down and retry.", send.ClientMsgId));
            return;
        }

        if (!connection.TryQueueChatCall(send, _forward ??= ForwardAsync))
        {
            // Not stored: retrying with the same clientMsgId is safe. A send refused here commits after
            // the socket's sends queued before the retry; clients that keep at most MaxQueuedChatCalls
            // sends unanswered never see this, and keep their order.
            connection.TryEnqueue(ServerFrames.Error(
                ErrorCodes.RateLimited, "Too many sends are waiting for the chat service; retry with the same clientMsgId.", send.ClientMsgId));
        }
    }

    private void QueueRead(ClientConnection connection, ReadFrame read)
    {
        if (!connection.TryQueueChatCall(read, _forward ??= ForwardAsync))
        {
            connection.TryEnqueue(ServerFrames.Error(ErrorCodes.RateLimited, "Too many frames are waiting for the chat service; send the read position again."));
        }
    }

    /// <summary>Makes a queued call (the socket's forwarding task, one call at a time) and answers it.</summary>
    private Task ForwardAsync(ClientConnection connection, ClientFrame call, CancellationToken cancellationToken) => call switch
    {
        SendFrame send => SendAsync(connection, send, cancellationToken),
        ReadFrame read => ReadAsync(connection, read, cancellationToken),
        _ => throw new ArgumentOutOfRangeException(nameof(call), call.Type, "Only send and read frames call ChatService."),
    };

    private async Task SendAsync(ClientConnection connection, SendFrame send, CancellationToken cancellationToken)
    {
        // The root of the message's trace: ChatService's commit, the Redis hop and every socket write follow it.
        using var activity = GatewayTelemetry.ActivitySource.StartActivity("ws send", ActivityKind.Server);
        activity?.SetTag("yac.chat.id", send.ChatId.ToString("D"));
        activity?.SetTag("yac.connection.id", connection.Id);
        var result = await sends.SendAsync(connection.AccessToken, send.ChatId, send.ClientMsgId, send.Text, send.ReplyToSeq, cancellationToken);
        if (result is { Status: ChatCallStatus.Ok, Value: { } message })
        {
            activity?.SetTag("yac.message.seq", message.Seq);
            connection.TryEnqueue(ServerFrames.Ack(send.ClientMsgId, message));
            return;
        }

        activity?.SetStatus(ActivityStatusCode.Error, result.Status.ToString());
        if (result.Status == ChatCallStatus.Unavailable)
        {
            LogSendUnavailable(send.ChatId);
        }

        connection.TryEnqueue(ErrorFor(result.Status, send.ClientMsgId));
    }

    private async Task ReadAsync(ClientConnection connection, ReadFrame read, CancellationToken cancellationToken)
    {
        var status = await chatService.MarkReadAsync(connection.AccessToken, read.ChatId, read.Seq, cancellationToken);
        if (status != ChatCallStatus.Ok)
        {
            connection.TryEnqueue(ErrorFor(status, reference: null));
        }
    }

    private async Task TypingAsync(ClientConnection connection, TypingFrame typing)
    {
        if (!connection.TryTakeSendToken())
        {
            connection.TryEnqueue(ServerFrames.Error(ErrorCodes.RateLimited, "Too many frames; slow down."));
            return;
        }

        if (!connection.IsMemberOf(typing.ChatId))
        {
            connection.TryEnqueue(ServerFrames.Error(ErrorCodes.Forbidden, "You are not a member of this chat.", typing.ChatId.ToString("D")));
            return;
        }

        try
        {
            // Not stored and not acknowledged: losing one is harmless, so nobody waits for Redis.
            await publisher.PublishAsync(
                Channels.Chat(typing.ChatId), EventTypes.Typing, new TypingEvent(typing.ChatId, connection.UserId),
                ContractsJsonContext.Default.TypingEvent, CommandFlags.FireAndForget);
        }
        catch (RedisException exception)
        {
            LogTypingFailed(exception);
        }
    }

    private async Task AuthAsync(ClientConnection connection, AuthFrame auth, CancellationToken cancellationToken)
    {
        var result = await tokenValidator.ValidateAsync(auth.AccessToken, cancellationToken);
        if (!result.IsValid || result.UserId != connection.UserId || result.DeviceId != connection.DeviceId)
        {
            connection.RejectFrame("The token is not a valid access token of this socket's user and device; the socket keeps its token.");
            return;
        }

        connection.SwapToken(auth.AccessToken, result.ExpiresAt);
        var expiresIn = (long)Math.Max(0, (result.ExpiresAt - time.GetUtcNow()).TotalSeconds);
        connection.TryEnqueue(ServerFrames.AuthOk(expiresIn));
    }

    private static ReadOnlyMemory<byte> ErrorFor(ChatCallStatus status, string? reference) => status switch
    {
        ChatCallStatus.BadRequest => ServerFrames.Error(ErrorCodes.BadRequest, "ChatService refused the request as invalid.", reference),
        ChatCallStatus.NotFound => ServerFrames.Error(ErrorCodes.NotFound, "The chat does not exist or you are not a member.", reference),
        ChatCallStatus.Forbidden or ChatCallStatus.Unauthorized => ServerFrames.Error(ErrorCodes.Forbidden, "You may not do this.", reference),
        ChatCallStatus.RateLimited => ServerFrames.Error(ErrorCodes.RateLimited, "Too many requests; slow down and retry.", reference),
        _ => ServerFrames.Error(ErrorCodes.Unavailable, "Not accepted: the chat service is unavailable. Retry with the same clientMsgId.", reference),
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "A send to chat {ChatId} failed: ChatService unavailable")]
    private partial void LogSendUnavailable(Guid chatId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Publishing a typing event failed")]
    private partial void LogTypingFailed(Exception exception);
}
