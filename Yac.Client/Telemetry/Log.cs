using Microsoft.Extensions.Logging;

namespace Yac.Client;

/// <summary>The client's log messages: ids, codes and counts only, never tokens or message text.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Connecting to {Url} (attempt {Attempt})")]
    public static partial void Connecting(ILogger logger, Uri url, int attempt);

    [LoggerMessage(2, LogLevel.Information, "Connected to gateway {GatewayId} (connection {ConnectionId}); resuming {Chats} chats")]
    public static partial void Connected(ILogger logger, string gatewayId, string connectionId, int chats);

    [LoggerMessage(3, LogLevel.Information, "Socket closed ({CloseStatus}); reconnecting in {DelayMs} ms")]
    public static partial void Reconnecting(ILogger logger, int closeStatus, long delayMs);

    [LoggerMessage(4, LogLevel.Warning, "Connecting failed; retrying in {DelayMs} ms")]
    public static partial void ConnectFailed(ILogger logger, Exception exception, long delayMs);

    [LoggerMessage(5, LogLevel.Information, "Session ended: {Reason}")]
    public static partial void SessionEnded(ILogger logger, YacSessionEndReason reason);

    [LoggerMessage(6, LogLevel.Warning, "Send {ClientMsgId} refused: {Code}; {Outcome}")]
    public static partial void SendRefused(ILogger logger, string clientMsgId, string code, string outcome);

    [LoggerMessage(7, LogLevel.Debug, "Reading chat {ChatId} after {After} (by rev: {ByRev}) to close a gap")]
    public static partial void GapFill(ILogger logger, Guid chatId, long after, bool byRev);

    [LoggerMessage(8, LogLevel.Warning, "Reading the missing range of chat {ChatId} failed; trying again")]
    public static partial void GapFillFailed(ILogger logger, Exception exception, Guid chatId);

    [LoggerMessage(9, LogLevel.Warning, "No frame for {Seconds} s: the socket is taken for dead")]
    public static partial void HeartbeatTimeout(ILogger logger, double seconds);

    [LoggerMessage(10, LogLevel.Warning, "Renewing the access token for the socket failed; trying again")]
    public static partial void TokenSwapFailed(ILogger logger, Exception exception);

    [LoggerMessage(11, LogLevel.Warning, "Server error {Code} (ref {Ref})")]
    public static partial void ServerError(ILogger logger, string code, string? @ref);

    [LoggerMessage(12, LogLevel.Warning, "A frame could not be read and was skipped ({Type})")]
    public static partial void BadFrame(ILogger logger, Exception exception, string type);

    [LoggerMessage(13, LogLevel.Warning, "The outbox store failed")]
    public static partial void OutboxStoreFailed(ILogger logger, Exception exception);

    [LoggerMessage(14, LogLevel.Debug, "Access token swapped on the socket")]
    public static partial void TokenSwapped(ILogger logger);
}
