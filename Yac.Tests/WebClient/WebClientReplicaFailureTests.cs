using System.Text.RegularExpressions;
using Yac.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Yac.Tests.WebClient;

/// <summary>This test kills a gateway replica: it runs on an app of its own.</summary>
[Collection(WebClientReplicaFailureCollection.Name)]
public sealed class WebClientReplicaFailureTests(ReplicaFailureAppFixture fixture, ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task PageReconnectsAfterItsReplicaDiesAndShowsEveryMessageSentMeanwhileExactlyOnce()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var afterReconnect = new Microsoft.Playwright.LocatorAssertionsToHaveCountOptions { Timeout = 120_000 };
        await using var chat = await DirectChat.StartAsync(chromium.Browser, fixture);
        var (alice, bob) = chat;
        await bob.OpenChatAsync(alice.DisplayName);
        var before = $"Before the crash {Guid.NewGuid():N}";
        await alice.SendAsync(before);
        await Expect(bob.Messages(before)).ToHaveCountAsync(1);

        var replicas = await fixture.GetReplicasByGatewayIdAsync(await alice.AccessTokenAsync(), timeout.Token);
        var doomedGatewayId = await alice.GatewayIdAsync();
        Assert.NotNull(doomedGatewayId);
        Assert.Contains(doomedGatewayId, replicas.Keys);

        await fixture.KillGatewayReplicaAsync(replicas[doomedGatewayId], timeout.Token);
        var meanwhile = new List<(ChatPage Sender, string Text)>();
        for (var index = 1; index <= 3; index++)
        {
            meanwhile.Add((bob, $"Bob while Alice reconnects {index} {Guid.NewGuid():N}"));
            meanwhile.Add((alice, $"Alice while reconnecting {index} {Guid.NewGuid():N}"));
        }

        foreach (var (sender, text) in meanwhile)
        {
            await sender.SendAsync(text);
        }

        // Alice's page said hello again, on a replica that is still alive.
        var survivors = new Regex($"^({string.Join('|', replicas.Keys.Where(id => id != doomedGatewayId).Select(Regex.Escape))})$");
        await Expect(alice.Page.Locator("#connection")).ToHaveAttributeAsync("data-gateway-id", survivors, new() { Timeout = 120_000 });

        foreach (var page in new[] { alice, bob })
        {
            foreach (var (sender, text) in meanwhile)
            {
                await Expect(page.Messages(text)).ToHaveCountAsync(1, afterReconnect);
            }

            await Expect(page.MessageList.Locator(".message")).ToHaveCountAsync(1 + meanwhile.Count, afterReconnect);
            await Expect(page.MessageList.Locator(".message[data-state=pending], .message[data-state=failed]")).ToHaveCountAsync(0, afterReconnect);
            var seqs = await page.MessageList.Locator(".message").EvaluateAllAsync<int[]>("elements => elements.map(e => Number(e.dataset.seq))");
            Assert.Equal(Enumerable.Range(seqs[0], seqs.Length), seqs);
        }

        alice.AssertRanCleanly();
        bob.AssertRanCleanly();
    }
}
