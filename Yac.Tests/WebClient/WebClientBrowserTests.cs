using Microsoft.Playwright;
using Yac.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Yac.Tests.WebClient;

/// <summary>
/// Two people, each in their own browser context, use YAC's page through the gateway's public
/// address (one origin for the page, /api and /ws), exactly as a newcomer would.
/// </summary>
[Collection(YacAppCollection.Name)]
public sealed class WebClientBrowserTests(YacAppFixture fixture, ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task TwoPeopleExchangeMessagesLiveAndTheSendersMarkGoesFromPendingToSent()
    {
        await using var chat = await DirectChat.StartAsync(chromium.Browser, fixture);
        var (alice, bob) = chat;

        await alice.RecordMessageStatesAsync();
        var hello = $"Hi Bob, lunch at noon? {Guid.NewGuid():N}";
        await alice.SendAsync(hello);

        await Expect(alice.Messages(hello)).ToHaveAttributeAsync("data-state", "sent");
        Assert.Equal(["pending", "sent"], (await alice.RecordedStatesAsync(hello)).Distinct());
        await Expect(alice.Composer).ToBeFocusedAsync();

        // Bob has no chat open: the new chat shows up with the message as unread.
        await Expect(bob.UnreadBadge(alice.DisplayName)).ToHaveTextAsync("1");
        await Expect(bob.ChatLink(alice.DisplayName)).ToContainTextAsync(hello);
        await bob.OpenChatAsync(alice.DisplayName);
        await Expect(bob.Messages(hello)).ToHaveCountAsync(1);
        await Expect(bob.UnreadBadge(alice.DisplayName)).ToHaveCountAsync(0);

        var reply = $"Sure, see you there {Guid.NewGuid():N}";
        await bob.SendAsync(reply);
        await Expect(alice.Messages(reply)).ToHaveCountAsync(1);
        // Alice has the chat open, so she may read the reply before Bob's page is looked at.
        await Expect(bob.Messages(reply)).ToHaveAttributeAsync("data-state", new System.Text.RegularExpressions.Regex("^(sent|read)$"));
        await Expect(alice.Messages(reply)).ToHaveAttributeAsync("data-state", "received");

        // Alice saw Bob's reply in her open chat, so it does not count as unread for her.
        await Expect(alice.UnreadBadge(bob.DisplayName)).ToHaveCountAsync(0);
        alice.AssertRanCleanly();
        bob.AssertRanCleanly();
    }

    [Fact]
    public async Task UnreadBadgeAppearsForANewMessageAndClearsOnceItIsReadEvenAfterAReload()
    {
        await using var chat = await DirectChat.StartAsync(chromium.Browser, fixture);
        var (alice, bob) = chat;
        var first = $"First {Guid.NewGuid():N}";
        await alice.SendAsync(first);
        await bob.OpenChatAsync(alice.DisplayName);
        await Expect(bob.Messages(first)).ToHaveCountAsync(1);
        await bob.Page.GotoAsync("/#/");

        var second = $"Second {Guid.NewGuid():N}";
        var third = $"Third {Guid.NewGuid():N}";
        await alice.SendAsync(second);
        await alice.SendAsync(third);

        await Expect(bob.UnreadBadge(alice.DisplayName)).ToHaveTextAsync("2");
        await Expect(bob.ChatLink(alice.DisplayName)).ToContainTextAsync(third);

        // Opening the chat shows both messages, which reads them (POST .../read).
        await bob.Page.RunAndWaitForResponseAsync(
            () => bob.OpenChatAsync(alice.DisplayName),
            response => response.Url.EndsWith("/read", StringComparison.Ordinal) && response.Status == 204);
        await Expect(bob.Messages(third)).ToBeVisibleAsync();
        await Expect(bob.UnreadBadge(alice.DisplayName)).ToHaveCountAsync(0);

        // The read position reached the server: a reload does not bring the badge back.
        await bob.Page.GotoAsync("/#/");
        await bob.Page.ReloadAsync();
        await Expect(bob.ChatLink(alice.DisplayName)).ToContainTextAsync(third);
        await Expect(bob.UnreadBadge(alice.DisplayName)).ToHaveCountAsync(0);
        bob.AssertRanCleanly();
    }

    [Fact]
    public async Task MarkupInAMessageIsShownAsTextAndRunsNothing()
    {
        await using var chat = await DirectChat.StartAsync(chromium.Browser, fixture);
        var (alice, bob) = chat;
        await bob.OpenChatAsync(alice.DisplayName);

        const string Attack = "<img src=x onerror=alert(1)> <b>bold?</b>";
        await alice.SendAsync(Attack);

        foreach (var page in new[] { alice, bob })
        {
            await Expect(page.Messages(Attack).Locator(".text")).ToHaveTextAsync(Attack);
            await Expect(page.MessageList.Locator("img, b")).ToHaveCountAsync(0);
            await Expect(page.ChatLink(page == alice ? bob.DisplayName : alice.DisplayName)).ToContainTextAsync(Attack);
            await Expect(page.Page.Locator("#chat-list img, #chat-list b")).ToHaveCountAsync(0);
        }

        // Reloaded from history (REST) rather than pushed (socket): still text.
        await bob.Page.ReloadAsync();
        await Expect(bob.Messages(Attack).Locator(".text")).ToHaveTextAsync(Attack);
        await Expect(bob.MessageList.Locator("img, b")).ToHaveCountAsync(0);

        alice.AssertRanCleanly();
        bob.AssertRanCleanly();
    }

    [Fact]
    public async Task ReloadKeepsTheSessionAndShowsTheHistoryInOrder()
    {
        await using var chat = await DirectChat.StartAsync(chromium.Browser, fixture);
        var (alice, bob) = chat;
        var texts = Enumerable.Range(1, 5).Select(index => $"History {index} {Guid.NewGuid():N}").ToList();
        foreach (var text in texts)
        {
            await alice.SendAsync(text);
        }

        await Expect(alice.Messages(texts[^1])).ToHaveAttributeAsync("data-state", "sent");

        await alice.Page.ReloadAsync();

        await Expect(alice.Page.Locator("#auth-view")).ToBeHiddenAsync();
        await Expect(alice.ConversationTitle).ToHaveTextAsync(bob.DisplayName);
        await Expect(alice.MessageList.Locator(".message .text")).ToHaveTextAsync([.. texts]);
        var seqs = await alice.MessageList.Locator(".message").EvaluateAllAsync<int[]>("elements => elements.map(e => Number(e.dataset.seq))");
        Assert.Equal(seqs.Order(), seqs);
        alice.AssertRanCleanly();
    }

    [Fact]
    public async Task ScrollingUpLoadsOlderMessagesPageByPage()
    {
        await using var chat = await DirectChat.StartAsync(chromium.Browser, fixture);
        var (alice, bob) = chat;

        // 70 messages: more than the first page of history (50).
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var chatId = Guid.Parse(await alice.OpenChatIdAsync());
        using var aliceHttp = fixture.CreateClient("gateway", await alice.AccessTokenAsync());
        for (var index = 1; index <= 70; index++)
        {
            await aliceHttp.SendOverRestAsync(chatId, $"Numbered {index:D3}", timeout.Token);
        }

        await bob.Page.ReloadAsync();
        await bob.OpenChatAsync(alice.DisplayName);
        await Expect(bob.Messages("Numbered 070")).ToBeVisibleAsync();
        await Expect(bob.MessageList.Locator(".message")).ToHaveCountAsync(50);
        await Expect(bob.Messages("Numbered 020")).ToHaveCountAsync(0);

        await bob.Page.Locator("#messages").EvaluateAsync("element => element.scrollTop = 0");

        await Expect(bob.Messages("Numbered 001")).ToHaveCountAsync(1);
        await Expect(bob.MessageList.Locator(".message")).ToHaveCountAsync(70);
        await Expect(bob.Page.Locator("#history-status")).ToHaveTextAsync("This is the beginning of the conversation.");
        bob.AssertRanCleanly();
    }

    [Fact]
    public async Task GroupOwnerManagesMembersWhileOthersJoinByLinkAndLeave()
    {
        await using var alice = await ChatPage.OpenAsync(chromium.Browser, fixture, "alice");
        await using var bob = await ChatPage.OpenAsync(chromium.Browser, fixture, "bob");
        await using var carol = await ChatPage.OpenAsync(chromium.Browser, fixture, "carol");
        await alice.RegisterAsync();
        await bob.RegisterAsync();
        await carol.RegisterAsync();
        var title = $"Lunch club {Guid.NewGuid():N}"[..20];

        await alice.CreateGroupAsync(title, isPublic: true);
        var chatId = await alice.OpenChatIdAsync();

        // Bob follows the invite link, sees what he joins, and joins.
        await bob.Page.GotoAsync($"/#/join/{chatId}");
        await Expect(bob.Page.Locator("#join-preview")).ToContainTextAsync(title);
        await bob.Page.Locator("#join-dialog").GetByRole(AriaRole.Button, new() { Name = "Join" }).ClickAsync();
        await Expect(bob.ConversationTitle).ToHaveTextAsync(title);

        // Alice, the owner, sees Bob in the members panel and adds Carol by username.
        await alice.OpenChatInfoAsync();
        await Expect(alice.Member(bob.DisplayName)).ToBeVisibleAsync();
        await Expect(alice.Member(alice.DisplayName)).ToContainTextAsync("Owner");
        await alice.InfoDialog.GetByLabel("Add a member by username").FillAsync(carol.Username);
        await alice.InfoDialog.GetByRole(AriaRole.Button, new() { Name = "Add", Exact = true }).ClickAsync();
        await Expect(alice.Member(carol.DisplayName)).ToBeVisibleAsync();
        await alice.InfoDialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();

        // Carol was added while online: the group appears for her without a reload.
        await carol.OpenChatAsync(title);
        var hello = $"Welcome both {Guid.NewGuid():N}";
        await alice.SendAsync(hello);
        foreach (var member in new[] { bob, carol })
        {
            await Expect(member.Messages(hello)).ToHaveCountAsync(1);
            await Expect(member.Messages(hello).Locator(".sender")).ToHaveTextAsync(alice.DisplayName);
        }

        // Bob has no right to remove anyone; Alice removes Carol; Bob leaves on his own.
        await bob.OpenChatInfoAsync();
        await Expect(bob.Member(carol.DisplayName)).ToBeVisibleAsync();
        await Expect(bob.InfoDialog.GetByRole(AriaRole.Button, new() { Name = $"Remove {carol.DisplayName}" })).ToHaveCountAsync(0);
        await alice.OpenChatInfoAsync();
        await alice.InfoDialog.GetByRole(AriaRole.Button, new() { Name = $"Remove {carol.DisplayName}" }).ClickAsync();
        await Expect(alice.Member(carol.DisplayName)).ToHaveCountAsync(0);
        await Expect(carol.ChatLink(title)).ToHaveCountAsync(0);

        var leave = bob.InfoDialog.GetByRole(AriaRole.Button, new() { Name = "Leave chat" });
        await leave.ClickAsync();
        await bob.InfoDialog.GetByRole(AriaRole.Button, new() { Name = "Click again to leave" }).ClickAsync();
        await Expect(bob.ChatLink(title)).ToHaveCountAsync(0);
        await Expect(alice.Member(bob.DisplayName)).ToHaveCountAsync(0);

        foreach (var page in new[] { alice, bob, carol })
        {
            page.AssertRanCleanly();
        }
    }

    [Fact]
    public async Task ConversationLooksRightOnADesktopAndOnAPhone()
    {
        await using var chat = await DirectChat.StartAsync(chromium.Browser, fixture);
        var (alice, bob) = chat;
        await bob.OpenChatAsync(alice.DisplayName);

        string[] conversation =
        [
            "alice:Hey! Did you see the new YAC build?",
            "bob:Yes, the web client finally looks like a real chat app!",
            "alice:Messages show a clock while they are sending, then a tick once the server has stored them.",
            "bob:And it reconnects on its own when a gateway replica goes away.",
            "alice:Let's try it on the phone too.",
        ];
        foreach (var line in conversation)
        {
            var (sender, text) = line.Split(':', 2) is [var who, var what] ? (who == "alice" ? alice : bob, what) : throw new InvalidOperationException(line);
            await sender.SendAsync(text);
            await Expect(sender.Messages(text)).ToHaveAttributeAsync("data-state", new System.Text.RegularExpressions.Regex("sent|read"));
            await Expect((sender == alice ? bob : alice).Messages(text)).ToHaveCountAsync(1);
        }

        await alice.Composer.FillAsync("Typing a draft…");
        await alice.ScreenshotAsync("conversation-1280x800");
        await Expect(alice.Page.Locator(".sidebar")).ToBeVisibleAsync();
        await Expect(alice.Page.Locator("#conversation-view")).ToBeVisibleAsync();

        await alice.Page.SetViewportSizeAsync(390, 844);
        await Expect(alice.Page.Locator(".sidebar")).ToBeHiddenAsync();
        await Expect(alice.Composer).ToBeVisibleAsync();
        await alice.ScreenshotAsync("conversation-390x844");

        // On a phone the list and the conversation take turns: Back shows the list again.
        await alice.Page.GetByRole(AriaRole.Link, new() { Name = "Back to chats" }).ClickAsync();
        await Expect(alice.ChatLink(bob.DisplayName)).ToBeVisibleAsync();
        await alice.ScreenshotAsync("chat-list-390x844");
        alice.AssertRanCleanly();
    }
}
