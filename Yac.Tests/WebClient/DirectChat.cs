using Microsoft.Playwright;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.WebClient;

/// <summary>
/// Alice and Bob, each registered in a browser context of their own, with the direct chat that
/// Alice started open on her page (Bob's page shows it in his list; he has not opened it).
/// </summary>
public sealed class DirectChat : IAsyncDisposable
{
    private DirectChat(ChatPage alice, ChatPage bob)
    {
        Alice = alice;
        Bob = bob;
    }

    public ChatPage Alice { get; }

    public ChatPage Bob { get; }

    public static async Task<DirectChat> StartAsync(IBrowser browser, YacAppFixture app)
    {
        var alice = await ChatPage.OpenAsync(browser, app, "alice");
        ChatPage? bob = null;
        try
        {
            bob = await ChatPage.OpenAsync(browser, app, "bob");
            await alice.RegisterAsync();
            await bob.RegisterAsync();
            await alice.StartDirectChatAsync(bob);
            return new DirectChat(alice, bob);
        }
        catch
        {
            if (bob is not null)
            {
                await bob.DisposeAsync();
            }

            await alice.DisposeAsync();
            throw;
        }
    }

    public void Deconstruct(out ChatPage alice, out ChatPage bob) => (alice, bob) = (Alice, Bob);

    public async ValueTask DisposeAsync()
    {
        await Bob.DisposeAsync();
        await Alice.DisposeAsync();
    }
}
