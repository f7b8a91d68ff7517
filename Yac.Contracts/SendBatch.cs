namespace Yac.Contracts;

/// <summary>
/// <c>POST /internal/messages/batch</c> on ChatService: the sends of many sockets in one request, from a
/// gateway. Internal (not proxied under <c>/api</c>). Each send carries its user's own access token, so
/// ChatService applies exactly the rules of <c>POST /api/chats/{chatId}/messages</c> to each.
/// </summary>
public sealed record SendBatchRequest(IReadOnlyList<BatchedSend>? Sends);

/// <summary>
/// One socket's <c>send</c>: its user's access token, the frame's fields, and the W3C
/// <c>traceparent</c> of the send's own span (so its trace goes on in ChatService). <c>ReplyToSeq</c>: the
/// frame's optional <c>replyToSeq</c>.
/// </summary>
public sealed record BatchedSend(string? AccessToken, Guid ChatId, string? ClientMsgId, string? Text, string? TraceParent, long? ReplyToSeq = null);

/// <summary>One result per send, in the order of the request.</summary>
public sealed record SendBatchResponse(IReadOnlyList<BatchedSendResult> Results);

/// <summary>
/// Status: what <c>POST /api/chats/{chatId}/messages</c> would have answered (201
/// stored, 200 stored before under this clientMsgId, 400, 401, 403, 404, 503); Message: the stored
/// message, with 200 and 201.
/// </summary>
public sealed record BatchedSendResult(int Status, MessageCreatedEvent? Message);
