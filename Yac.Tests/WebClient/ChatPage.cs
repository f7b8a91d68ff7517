using System.Text.Json;
using Microsoft.Playwright;
using Yac.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Yac.Tests.WebClient;

/// <summary>
/// One person using YAC's web page in their own browser context (own cookies and session
/// storage), with the steps a user takes, found the way a user finds them: by labels and names.
/// </summary>
public sealed class ChatPage : IAsyncDisposable
{
    public const string Password = "correct horse battery";

    private readonly IBrowserContext _context;
    private readonly List<string> _dialogs = [];
    private readonly List<string> _pageErrors = [];
    private readonly List<string> _policyViolations = [];

    private ChatPage(IBrowserContext context, IPage page, string username)
    {
        _context = context;
        Page = page;
        Username = username;
        DisplayName = $"{char.ToUpperInvariant(username[0])}{username[1..username.IndexOf('_', StringComparison.Ordinal)]}";
        page.Dialog += (_, dialog) =>
        {
            _dialogs.Add($"{dialog.Type}: {dialog.Message}");
            _ = dialog.DismissAsync();
        };
        page.PageError += (_, error) => _pageErrors.Add(error);
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                _policyViolations.Add(message.Text);
            }
        };
    }

    public IPage Page { get; }

    public string Username { get; }

    public string DisplayName { get; }

    /// <summary>JavaScript dialogs (alert, confirm, prompt) the page opened.</summary>
    public IReadOnlyList<string> Dialogs => _dialogs;

    /// <summary>Uncaught script errors on the page.</summary>
    public IReadOnlyList<string> PageErrors => _pageErrors;

    /// <summary>Content-Security-Policy violations the browser reported.</summary>
    public IReadOnlyList<string> PolicyViolations => _policyViolations;

    public ILocator MessageList => Page.Locator("#message-list");

    public ILocator Composer => Page.GetByLabel("Message", new() { Exact = true });

    public ILocator ConversationTitle => Page.Locator("#conversation-title");

    /// <summary>
    /// Opens YAC in a fresh browser context at the gateway's public address (one origin for the
    /// page, /api and /ws); the user name made from <paramref name="name"/> is unique per call.
    /// </summary>
    public static async Task<ChatPage> OpenAsync(IBrowser browser, YacAppFixture app, string name)
    {
        using var gateway = app.CreateClient("gateway");
        var baseAddress = gateway.BaseAddress!;
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
            Locale = "en-GB",
            TimezoneId = "UTC",
        });
        var page = await context.NewPageAsync();
        var chatPage = new ChatPage(context, page, $"{name}_{Guid.NewGuid():N}"[..20]);
        await page.GotoAsync("/");
        return chatPage;
    }

    public async Task RegisterAsync()
    {
        await Page.GetByRole(AriaRole.Tab, new() { Name = "Create account" }).ClickAsync();
        var form = Page.Locator("#register-form");
        await form.GetByLabel("Username").FillAsync(Username);
        await form.GetByLabel("Display name").FillAsync(DisplayName);
        await form.GetByLabel("Password").FillAsync(Password);
        await form.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await Expect(Page.Locator("#me")).ToContainTextAsync($"@{Username}");
    }

    public async Task StartDirectChatAsync(ChatPage peer)
    {
        await Page.GetByRole(AriaRole.Button, new() { Name = "New chat" }).ClickAsync();
        var dialog = Page.Locator("#new-chat-dialog");
        await dialog.GetByLabel("Username", new() { Exact = true }).FillAsync(peer.Username);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Expect(ConversationTitle).ToHaveTextAsync(peer.DisplayName);
    }

    public async Task CreateGroupAsync(string title, bool isPublic)
    {
        await Page.GetByRole(AriaRole.Button, new() { Name = "New chat" }).ClickAsync();
        var dialog = Page.Locator("#new-chat-dialog");
        await dialog.GetByLabel("Group", new() { Exact = true }).CheckAsync();
        await dialog.GetByLabel("Group name").FillAsync(title);
        await dialog.GetByLabel(isPublic ? "Public" : "Private").CheckAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Expect(ConversationTitle).ToHaveTextAsync(title);
    }

    /// <summary>The id of the open chat, from the address (#/chat/&lt;id&gt;).</summary>
    public Task<string> OpenChatIdAsync() => Page.EvaluateAsync<string>("() => decodeURIComponent(location.hash.split('/')[2])");

    public ILocator InfoDialog => Page.Locator("#info-dialog");

    public ILocator Member(string displayName) => InfoDialog.Locator(".member").Filter(new() { HasText = displayName });

    public Task OpenChatInfoAsync() => Page.GetByRole(AriaRole.Button, new() { Name = "Chat info and members" }).ClickAsync();

    /// <summary>The chat's entry in the list (its accessible name starts with the chat's title).</summary>
    public ILocator ChatLink(string title) =>
        Page.Locator("#chat-list").GetByRole(AriaRole.Link, new() { Name = title });

    public ILocator UnreadBadge(string title) => ChatLink(title).Locator(".badge");

    public async Task OpenChatAsync(string title)
    {
        await ChatLink(title).ClickAsync();
        await Expect(ConversationTitle).ToHaveTextAsync(title);
    }

    public async Task SendAsync(string text)
    {
        await Composer.FillAsync(text);
        await Composer.PressAsync("Enter");
    }

    /// <summary>Messages on screen whose text contains <paramref name="text"/>.</summary>
    public ILocator Messages(string text) => MessageList.Locator(".message").Filter(new() { HasText = text });

    /// <summary>
    /// Starts recording every state (pending, sent, read, failed) that each message element of
    /// the list shows, as "text|state" lines, so a test can tell that "pending" came before "sent".
    /// </summary>
    public Task RecordMessageStatesAsync() => Page.EvaluateAsync("""
        () => {
          window.yacStates = [];
          const record = (element) => {
            if (element.nodeType === 1 && element.matches('.message')) {
              window.yacStates.push(element.querySelector('.text').textContent + '|' + element.dataset.state);
            }
          };
          new MutationObserver((mutations) => {
            for (const mutation of mutations) {
              if (mutation.type === 'attributes') record(mutation.target);
              else mutation.addedNodes.forEach(record);
            }
          }).observe(document.getElementById('message-list'), { childList: true, subtree: true, attributes: true, attributeFilter: ['data-state'] });
        }
        """);

    public async Task<IReadOnlyList<string>> RecordedStatesAsync(string text)
    {
        var states = await Page.EvaluateAsync<string[]>("() => window.yacStates");
        return [.. states.Where(entry => entry.StartsWith(text + "|", StringComparison.Ordinal)).Select(entry => entry[(text.Length + 1)..])];
    }

    /// <summary>The gateway replica (hello's gatewayId) that holds this page's socket.</summary>
    public Task<string?> GatewayIdAsync() => Page.Locator("#connection").GetAttributeAsync("data-gateway-id");

    public async Task<string> AccessTokenAsync()
    {
        var session = await Page.EvaluateAsync<string>("() => sessionStorage.getItem('yac.session')");
        using var document = JsonDocument.Parse(session);
        return document.RootElement.GetProperty("accessToken").GetString()!;
    }

    /// <summary>Saves a screenshot of the page under TestResults/screenshots of the test output.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"{name}.png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        return path;
    }

    /// <summary>Asserts the page never threw, never opened a dialog and never broke its CSP.</summary>
    public void AssertRanCleanly()
    {
        Assert.Empty(_pageErrors);
        Assert.Empty(_dialogs);
        Assert.Empty(_policyViolations);
    }

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}
