using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Yac.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Yac.Tests.WebClient;

/// <summary>
/// Editing, deleting, reacting, replying and searching from YAC's page, as people do it (menus, the
/// Up arrow, chips, the search box), with the other person's page following live.
/// </summary>
[Collection(YacAppCollection.Name)]
public sealed class WebClientLifecycleTests(YacAppFixture fixture, ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task EditDeleteReactReplyAndSearchFromThePageAndTheOtherPageFollowsLive()
    {
        await using var chat = await DirectChat.StartAsync(chromium.Browser, fixture);
        var (alice, bob) = chat;
        await bob.OpenChatAsync(alice.DisplayName);
        var word = $"lunch{Guid.NewGuid():N}"[..16];

        // Edit: the Up arrow in the empty composer edits Alice's last message.
        await alice.SendAsync($"Pizza for {word}?");
        await Expect(alice.Messages($"Pizza for {word}?")).ToHaveAttributeAsync("data-state", new Regex("^(sent|read)$"));
        await Expect(bob.Messages($"Pizza for {word}?")).ToHaveCountAsync(1);
        await alice.Composer.PressAsync("ArrowUp");
        await Expect(alice.Page.Locator("#composer-context")).ToContainTextAsync("Editing message");
        await Expect(alice.Composer).ToHaveValueAsync($"Pizza for {word}?");
        await alice.Composer.FillAsync($"Sushi for {word}?");
        await alice.Composer.PressAsync("Enter");
        foreach (var page in new[] { alice, bob })
        {
            var edited = page.Messages($"Sushi for {word}?");
            await Expect(edited.Locator(".edited")).ToHaveTextAsync("edited");
            await Expect(page.Messages($"Pizza for {word}")).ToHaveCountAsync(0);
        }

        await Expect(alice.Composer).ToHaveValueAsync("");

        // Delete from the message's menu: a tombstone on both pages.
        var regret = $"Forget it {Guid.NewGuid():N}";
        await alice.SendAsync(regret);
        await Expect(bob.Messages(regret)).ToHaveCountAsync(1);
        await ChooseAsync(alice, regret, "Delete");
        foreach (var page in new[] { alice, bob })
        {
            await Expect(page.Messages(regret)).ToHaveCountAsync(0);
            await Expect(page.MessageList.Locator(".message.deleted")).ToHaveTextAsync(new Regex("This message was deleted"));
        }

        // React: Bob from the picker, Alice by clicking his chip.
        await ChooseAsync(bob, $"Sushi for {word}?", "React with 👍");
        await Expect(Chip(alice, $"Sushi for {word}?", "👍 1")).ToBeVisibleAsync();
        await Expect(Chip(bob, $"Sushi for {word}?", "👍 1")).ToHaveAttributeAsync("aria-pressed", "true");
        await Chip(alice, $"Sushi for {word}?", "👍 1").ClickAsync();
        foreach (var page in new[] { alice, bob })
        {
            await Expect(Chip(page, $"Sushi for {word}?", "👍 2")).ToHaveAttributeAsync("aria-pressed", "true");
        }

        // Reply: Bob quotes the edited message; Alice's click on the quote goes back to the original.
        await ChooseAsync(bob, $"Sushi for {word}?", "Reply");
        await Expect(bob.Page.Locator("#composer-context")).ToContainTextAsync($"Replying to {alice.DisplayName}");
        var answer = $"Yes please {Guid.NewGuid():N}";
        await bob.SendAsync(answer);
        await Expect(bob.Page.Locator("#composer-context")).ToBeHiddenAsync();
        foreach (var page in new[] { alice, bob })
        {
            await Expect(page.Messages(answer).Locator(".quote")).ToContainTextAsync($"Sushi for {word}?");
        }

        await alice.Messages(answer).Locator(".quote").ClickAsync();
        await Expect(alice.Messages($"Sushi for {word}?").First).ToHaveClassAsync(new Regex("highlight"));

        // Search: the box lists the hit; opening it lands on the message.
        await alice.Page.GotoAsync("/#/");
        await alice.Page.GetByLabel("Search messages").FillAsync(word);
        await alice.Page.GetByLabel("Search messages").PressAsync("Enter");
        var hits = alice.Page.Locator("#search-results .search-hit");
        await Expect(hits).ToHaveCountAsync(1);
        await Expect(hits).ToContainTextAsync($"Sushi for {word}?");
        await hits.ClickAsync();
        await Expect(alice.ConversationTitle).ToHaveTextAsync(bob.DisplayName);
        await Expect(alice.Messages($"Sushi for {word}?").First).ToHaveClassAsync(new Regex("highlight"));
        await Expect(alice.Page.Locator("#search-results .search-hit")).ToHaveCountAsync(1);
        await alice.Page.GetByLabel("Search messages").FillAsync("");
        await Expect(alice.Page.Locator("#chat-list-nav")).ToBeVisibleAsync();

        await alice.ScreenshotAsync("lifecycle-alice");
        await bob.ScreenshotAsync("lifecycle-bob");
        alice.AssertRanCleanly();
        bob.AssertRanCleanly();
    }

    [Fact]
    public async Task APageThatWasAwayCatchesUpOnEditsDeletesAndReactionsWhenItComesBack()
    {
        await using var chat = await DirectChat.StartAsync(chromium.Browser, fixture);
        var (alice, bob) = chat;
        await using var link = await SocketLink.InstallAsync(bob.Page);
        // The page's socket goes through the link from now on (a reload opens a new one).
        await bob.Page.GotoAsync($"/#/chat/{await alice.OpenChatIdAsync()}");
        await bob.Page.ReloadAsync();
        await Expect(bob.ConversationTitle).ToHaveTextAsync(alice.DisplayName);
        var before = $"Before {Guid.NewGuid():N}";
        var doomed = $"Doomed {Guid.NewGuid():N}";
        await alice.SendAsync(before);
        await alice.SendAsync(doomed);
        await Expect(bob.Messages(doomed)).ToHaveCountAsync(1);

        // Bob's socket drops and cannot come back; Alice edits, reacts and deletes meanwhile.
        await link.CutAsync();
        await Expect(bob.Page.Locator("#connection")).ToBeVisibleAsync();
        await Expect(alice.Messages(doomed)).ToHaveAttributeAsync("data-state", new Regex("^(sent|read)$"));
        await ChooseAsync(alice, before, "Edit");
        await alice.Composer.FillAsync($"{before} (edited while you were away)");
        await alice.Composer.PressAsync("Enter");
        await ChooseAsync(alice, $"{before} (edited", "React with 🎉");
        await Expect(Chip(alice, $"{before} (edited", "🎉 1")).ToBeVisibleAsync();
        await ChooseAsync(alice, doomed, "Delete");
        await Expect(alice.Messages(doomed)).ToHaveCountAsync(0);
        await Expect(bob.Messages(doomed)).ToHaveCountAsync(1);

        // Back: the socket resumes by rev and the page shows every change, without a reload.
        await link.RestoreAsync();
        await Expect(bob.Messages($"{before} (edited while you were away)").Locator(".edited")).ToHaveTextAsync("edited", new() { Timeout = 60_000 });
        await Expect(Chip(bob, $"{before} (edited", "🎉 1")).ToBeVisibleAsync();
        await Expect(bob.Messages(doomed)).ToHaveCountAsync(0);
        await Expect(bob.MessageList.Locator(".message.deleted")).ToHaveCountAsync(1);
        await Expect(bob.Page.Locator("#connection")).ToBeHiddenAsync();
        alice.AssertRanCleanly();
        bob.AssertRanCleanly();
    }

    [Fact]
    public async Task AMessagesMenuStaysOpenWhenTheMessageIsReRenderedBecauseTheOtherPersonReadsIt()
    {
        // CI saw the Delete item time out: Bob's read turned Alice's message from "sent" to "read",
        // the message was rendered anew, and its open menu vanished under the pointer.
        await using var chat = await DirectChat.StartAsync(chromium.Browser, fixture);
        var (alice, bob) = chat;
        var text = $"Read while the menu is open {Guid.NewGuid():N}";
        await alice.SendAsync(text);
        var message = alice.Messages(text).First;
        await Expect(message).ToHaveAttributeAsync("data-state", "sent");
        await message.HoverAsync();
        await message.GetByRole(AriaRole.Button, new() { Name = "Message actions" }).ClickAsync();
        await Expect(message.GetByRole(AriaRole.Menuitem, new() { Name = "Delete", Exact = true })).ToBeVisibleAsync();

        await bob.OpenChatAsync(alice.DisplayName);
        await Expect(message).ToHaveAttributeAsync("data-state", "read");
        await Expect(message.GetByRole(AriaRole.Menuitem, new() { Name = "Delete", Exact = true })).ToBeVisibleAsync();
        await Expect(message.GetByRole(AriaRole.Button, new() { Name = "Message actions" })).ToHaveAttributeAsync("aria-expanded", "true");
        await message.GetByRole(AriaRole.Menuitem, new() { Name = "Delete", Exact = true }).ClickAsync();
        await Expect(alice.MessageList.Locator(".message.deleted")).ToHaveTextAsync(new Regex("This message was deleted"));
        alice.AssertRanCleanly();
        bob.AssertRanCleanly();
    }

    /// <summary>Opens the menu of the message showing <paramref name="text"/> and picks <paramref name="item"/>.</summary>
    private static async Task ChooseAsync(ChatPage page, string text, string item)
    {
        var message = page.Messages(text).First;
        await message.HoverAsync();
        await message.GetByRole(AriaRole.Button, new() { Name = "Message actions" }).ClickAsync();
        await message.GetByRole(AriaRole.Menuitem, new() { Name = item, Exact = true }).ClickAsync();
    }

    private static ILocator Chip(ChatPage page, string text, string label)
        => page.Messages(text).First.GetByRole(AriaRole.Button, new() { Name = label, Exact = true });

    /// <summary>
    /// Carries a page's WebSockets to the gateway (Playwright's WebSocket routing), and can cut them:
    /// while cut, the page's attempts to reconnect open sockets that lead nowhere (no hello).
    /// </summary>
    private sealed class SocketLink : IAsyncDisposable
    {
        private readonly Lock _lock = new();
        private readonly List<(IWebSocketRoute Page, IWebSocketRoute? Server)> _open = [];
        private bool _cut;

        public static async Task<SocketLink> InstallAsync(IPage page)
        {
            var link = new SocketLink();
            await page.RouteWebSocketAsync(url => new Uri(url).AbsolutePath == "/ws", link.Route);
            return link;
        }

        public async Task CutAsync()
        {
            lock (_lock)
            {
                _cut = true;
            }

            await CloseAllAsync();
        }

        public async Task RestoreAsync()
        {
            lock (_lock)
            {
                _cut = false;
            }

            // The page's dead-end sockets close; its next attempt reaches the gateway.
            await CloseAllAsync();
        }

        public ValueTask DisposeAsync() => new(CloseAllAsync());

        private void Route(IWebSocketRoute socket)
        {
            lock (_lock)
            {
                _open.Add((socket, _cut ? null : socket.ConnectToServer()));
            }
        }

        private async Task CloseAllAsync()
        {
            List<(IWebSocketRoute Page, IWebSocketRoute? Server)> open;
            lock (_lock)
            {
                open = [.. _open];
                _open.Clear();
            }

            foreach (var (page, server) in open)
            {
                await page.CloseAsync(new() { Code = 4000, Reason = "link cut" });
                if (server is not null)
                {
                    await server.CloseAsync(new() { Code = 1000, Reason = "link cut" });
                }
            }
        }
    }
}
