using System.Globalization;
using Yac.Client;

namespace Yac.Samples.Chat;

/// <summary>Signs in (or registers), lists the chats, opens one, shows its history and live messages, and sends each line.</summary>
internal sealed class ChatApp(YacClient yac, ChatOptions options, TextReader input, TextWriter output)
{
    private readonly Dictionary<Guid, string> _names = [];
    private readonly Lock _console = new();
    private long _lastShownSeq;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        await SignInOrRegisterAsync(cancellationToken);
        await using var session = await yac.ConnectAsync(cancellationToken: cancellationToken);
        var chat = await ChooseChatAsync(cancellationToken);
        if (chat is null)
        {
            return 1;
        }

        await ShowHistoryAsync(session, chat, cancellationToken);
        Write($"Opened {await DescribeAsync(chat, cancellationToken)}. Type a message and Enter; /quit leaves.");

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var events = ShowEventsAsync(session, chat.Id, stop.Token);
        var sends = new List<Task>();
        while (await input.ReadLineAsync(cancellationToken) is { } line && line.Trim() != "/quit")
        {
            if (!string.IsNullOrWhiteSpace(line))
            {
                sends.Add(SendAsync(session, chat.Id, line, cancellationToken));
            }
        }

        // Everything typed is stored before leaving (the outbox resends across reconnects).
        await Task.WhenAll(sends);
        await stop.CancelAsync();
        await events;
        return 0;
    }

    private async Task SignInOrRegisterAsync(CancellationToken cancellationToken)
    {
        try
        {
            await yac.SignInAsync(cancellationToken);
            Write($"Signed in as {options.User}.");
        }
        catch (YacUnauthorizedException)
        {
            // Unknown user (or a wrong password, which registering then reports as taken).
            await yac.RegisterAsync(options.User, options.Password, cancellationToken: cancellationToken);
            await yac.SignInAsync(cancellationToken);
            Write($"Registered and signed in as {options.User}.");
        }
    }

    private async Task<YacChat?> ChooseChatAsync(CancellationToken cancellationToken)
    {
        if (options.With is { } with)
        {
            return await OpenDirectAsync(with, cancellationToken);
        }

        var chats = await yac.GetChatsAsync(cancellationToken);
        Write(chats.Count == 0 ? "You have no chats yet." : "Your chats:");
        for (var index = 0; index < chats.Count; index++)
        {
            var summary = chats[index];
            Write($"  {index + 1}. {summary.Title ?? summary.Kind} ({summary.UnreadCount} unread)");
        }

        var choice = options.Chat;
        if (choice is null)
        {
            Write("Open which chat? (a number, or @username for a direct chat)");
            choice = (await input.ReadLineAsync(cancellationToken))?.Trim();
        }

        if (string.IsNullOrEmpty(choice))
        {
            return null;
        }

        if (choice.StartsWith('@'))
        {
            return await OpenDirectAsync(choice[1..], cancellationToken);
        }

        var chosen = int.TryParse(choice, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= 1 && number <= chats.Count
            ? chats[number - 1]
            : chats.FirstOrDefault(summary => string.Equals(summary.Title, choice, StringComparison.OrdinalIgnoreCase));
        if (chosen is null)
        {
            Write($"No chat {choice}.");
            return null;
        }

        return await yac.GetChatAsync(chosen.Id, cancellationToken);
    }

    private async Task<YacChat?> OpenDirectAsync(string username, CancellationToken cancellationToken)
    {
        var other = await yac.FindUserAsync(username, cancellationToken);
        if (other is null)
        {
            Write($"No user {username}.");
            return null;
        }

        return await yac.CreateChatAsync(YacCreateChat.Direct(other.Id), cancellationToken);
    }

    private async Task ShowHistoryAsync(YacSession session, YacChat chat, CancellationToken cancellationToken)
    {
        // Up to the session's start position: everything after it arrives as events, so nothing shows twice.
        var positions = await session.GetPositionsAsync(cancellationToken);
        long? before = positions.TryGetValue(chat.Id, out var position) ? position.Seq + 1 : null;
        var page = await yac.GetMessagesAsync(chat.Id, beforeSeq: before, limit: 20, cancellationToken: cancellationToken);
        foreach (var message in page.Messages)
        {
            await ShowAsync(message, cancellationToken);
        }
    }

    private async Task ShowEventsAsync(YacSession session, Guid chatId, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var @event in session.ReadAllAsync(cancellationToken))
            {
                switch (@event)
                {
                    case YacMessageEvent { Message: var message } when message.ChatId == chatId:
                        await ShowAsync(message, cancellationToken);
                        break;
                    case YacMessageEvent { Message: var message }:
                        Write($"(new message in another chat from {await NameAsync(message.SenderId, cancellationToken)})");
                        break;
                    case YacConnectionEvent { State: YacConnectionState.Reconnecting } reconnecting:
                        Write($"-- connection lost ({reconnecting.CloseStatus?.ToString(CultureInfo.InvariantCulture) ?? "no answer"}); reconnecting");
                        break;
                    case YacConnectionEvent { State: YacConnectionState.Connected } connected:
                        Write($"-- connected ({connected.GatewayId})");
                        break;
                    case YacSessionEndedEvent ended:
                        Write($"-- session ended: {ended.Reason}");
                        return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task SendAsync(YacSession session, Guid chatId, string text, CancellationToken cancellationToken)
    {
        try
        {
            await session.SendAsync(chatId, text, cancellationToken);
        }
        catch (YacSendException exception)
        {
            Write($"-- not sent ({exception.Code}): {exception.Message}");
        }
    }

    private async Task ShowAsync(YacMessage message, CancellationToken cancellationToken)
    {
        if (message.Seq <= _lastShownSeq)
        {
            return;
        }

        _lastShownSeq = message.Seq;
        var sender = await NameAsync(message.SenderId, cancellationToken);
        Write($"[{message.SentAt.ToLocalTime():HH:mm:ss}] {sender}: {message.Text}");
    }

    private async Task<string> NameAsync(Guid userId, CancellationToken cancellationToken)
    {
        if (!_names.TryGetValue(userId, out var name))
        {
            name = userId == yac.UserId ? "me" : (await yac.GetUserAsync(userId, cancellationToken)).DisplayName;
            _names[userId] = name;
        }

        return name;
    }

    private async Task<string> DescribeAsync(YacChat chat, CancellationToken cancellationToken)
    {
        if (chat.Kind != "direct")
        {
            return $"\"{chat.Title ?? "untitled group"}\"";
        }

        var other = chat.Members.FirstOrDefault(member => member.UserId != yac.UserId);
        return other is null ? "your direct chat" : $"your chat with {await NameAsync(other.UserId, cancellationToken)}";
    }

    private void Write(string line)
    {
        lock (_console)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }
}
