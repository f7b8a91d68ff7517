using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Yac.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Yac.Tests.WebClient;

/// <summary>An app of its own: the test below kills the gateway replica that holds a page's socket.</summary>
public sealed class WebClientReplicaFailureFixture : YacAppFixture
{
    /// <summary>The gatewayId that each replica's hello names, keyed by that replica's own address.</summary>
    public async Task<Dictionary<string, Uri>> GetReplicasByGatewayIdAsync(string accessToken, CancellationToken cancellationToken)
    {
        var replicas = new Dictionary<string, Uri>();
        foreach (var url in await GetGatewayReplicaUrlsAsync(cancellationToken))
        {
            using var socket = new ClientWebSocket();
            var socketUrl = new UriBuilder(url) { Scheme = "ws", Path = "/ws", Query = $"access_token={Uri.EscapeDataString(accessToken)}" }.Uri;
            await socket.ConnectAsync(socketUrl, cancellationToken);
            var buffer = new byte[16 * 1024];
            var received = await socket.ReceiveAsync(buffer, cancellationToken);
            using var hello = JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, received.Count));
            replicas[hello.RootElement.GetProperty("gatewayId").GetString()!] = url;
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cancellationToken);
        }

        return replicas;
    }

    /// <summary>Kills (SIGKILL: no goodbye, no 1012) the replica process that serves <paramref name="replicaUrl"/>.</summary>
    public async Task KillGatewayReplicaAsync(Uri replicaUrl, CancellationToken cancellationToken)
    {
        await foreach (var resourceEvent in App.ResourceNotifications.WatchAsync(cancellationToken))
        {
            var pid = resourceEvent.Snapshot.Properties.FirstOrDefault(property => property.Name == "executable.pid")?.Value;
            if (resourceEvent.Resource.Name != "gateway" || !Serves(resourceEvent.Snapshot, replicaUrl) || pid is null)
            {
                continue;
            }

            using var process = Process.GetProcessById(Convert.ToInt32(pid, CultureInfo.InvariantCulture));
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(cancellationToken);
            return;
        }
    }

    private static bool Serves(CustomResourceSnapshot snapshot, Uri replicaUrl) =>
        snapshot.EnvironmentVariables.FirstOrDefault(variable => variable.Name == "ASPNETCORE_URLS")?.Value?
            .Split(';', StringSplitOptions.RemoveEmptyEntries).Any(url => new Uri(url).Port == replicaUrl.Port) == true;
}

[CollectionDefinition(Name)]
public sealed class WebClientReplicaFailureCollection : ICollectionFixture<WebClientReplicaFailureFixture>
{
    public const string Name = "YAC app whose gateway replica dies under a browser";
}

[Collection(WebClientReplicaFailureCollection.Name)]
public sealed class WebClientReplicaFailureTests(WebClientReplicaFailureFixture fixture, ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task PageReconnectsAfterItsReplicaDiesAndShowsEveryMessageSentMeanwhileExactlyOnce()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var afterReconnect = new Microsoft.Playwright.LocatorAssertionsToHaveCountOptions { Timeout = 120_000 };
        await using var alice = await ChatPage.OpenAsync(chromium.Browser, fixture, "alice");
        await using var bob = await ChatPage.OpenAsync(chromium.Browser, fixture, "bob");
        await alice.RegisterAsync();
        await bob.RegisterAsync();
        await alice.StartDirectChatAsync(bob);
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

        // Alice's page said hello again, on the replica that is still alive.
        var survivorGatewayId = Assert.Single(replicas.Keys, id => id != doomedGatewayId);
        await Expect(alice.Page.Locator("#connection")).ToHaveAttributeAsync("data-gateway-id", survivorGatewayId, new() { Timeout = 120_000 });

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
