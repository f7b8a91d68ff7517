using Microsoft.AspNetCore.SignalR;

namespace Yac.Bench.SignalRBaseline;

/// <summary>
/// Joins each connection to the groups (chats) named in its <c>?chats=</c> query and broadcasts each
/// sent message to its group through the Redis backplane, with the same fields YAC's
/// <c>message</c> frame carries.
/// </summary>
public sealed class ChatHub : Hub
{
    public override async Task OnConnectedAsync()
    {
        var chats = Context.GetHttpContext()?.Request.Query["chats"].ToString() ?? "";
        foreach (var chatId in chats.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            await Groups.AddToGroupAsync(Context.ConnectionId, chatId, Context.ConnectionAborted);
        }

        await base.OnConnectedAsync();
    }

    /// <summary>Returns once the message is handed to the backplane: the baseline's "ack".</summary>
    public Task Send(string chatId, string clientMsgId, string text)
    {
        var userId = Context.GetHttpContext()?.Request.Query["user"].ToString() ?? Context.ConnectionId;
        var message = new ChatMessage(chatId, Guid.NewGuid().ToString(), userId, text, DateTimeOffset.UtcNow, clientMsgId);
        return Clients.Group(chatId).SendAsync("message", message, Context.ConnectionAborted);
    }
}

public sealed record ChatMessage(string ChatId, string Id, string SenderId, string Text, DateTimeOffset SentAt, string ClientMsgId);
