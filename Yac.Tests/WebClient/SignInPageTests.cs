using Microsoft.Playwright;
using Yac.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Yac.Tests.WebClient;

/// <summary>What a visitor who is not signed in sees and can do.</summary>
[Collection(YacAppCollection.Name)]
public sealed class SignInPageTests(YacAppFixture fixture, ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task NewcomerSeesTheSignInFormAndCanSwitchToRegistrationByKeyboard()
    {
        await using var visitor = await ChatPage.OpenAsync(chromium.Browser, fixture, "visitor");

        await Expect(visitor.Page).ToHaveTitleAsync("YAC");
        await Expect(visitor.Page.Locator("#sign-in-form").GetByLabel("Username")).ToBeFocusedAsync();
        await visitor.Page.GetByRole(AriaRole.Tab, new() { Name = "Sign in" }).FocusAsync();
        await visitor.Page.Keyboard.PressAsync("ArrowRight");

        await Expect(visitor.Page.GetByRole(AriaRole.Tab, new() { Name = "Create account" })).ToHaveAttributeAsync("aria-selected", "true");
        await Expect(visitor.Page.Locator("#register-form")).ToBeVisibleAsync();
        await Expect(visitor.Page.Locator("#app-view")).ToBeHiddenAsync();
        visitor.AssertRanCleanly();
    }
}
