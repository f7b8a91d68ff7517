using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.Testing;
using Npgsql;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Identity;

/// <summary>
/// Two Identity replicas on a fresh database: one signing key whichever replica makes it, and a token
/// that one replica signs is accepted by every replica, by ChatService and through the gateway, from
/// the first request on.
/// </summary>
[Collection(ReplicatedIdentityAppCollection.Name)]
public sealed class ReplicatedIdentityTests(ReplicatedIdentityAppFixture fixture)
{
    private const int Users = 12;

    [Fact]
    public async Task EveryReplicaAcceptsTheTokensOfEveryOtherFromTheFirstRequestOnAFreshDatabase()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var replicas = await fixture.GetIdentityReplicaUrlsAsync(timeout.Token);
        Assert.Equal(ReplicatedIdentityAppFixture.IdentityReplicas, replicas.Count);

        // Nothing has asked for a key yet: both replicas meet the empty key table at the same moment.
        var keySets = await Task.WhenAll(replicas.Select(replica => GetKeyIdsAsync(replica, timeout.Token)));
        var keyId = Assert.Single(keySets[0]);
        Assert.All(keySets, keys => Assert.Equal([keyId], keys));

        using var chat = fixture.CreateClient("chat");
        using var gateway = fixture.CreateClient("gateway");
        for (var i = 0; i < Users; i++)
        {
            // Registered through one replica, logged in through the other, each on a fresh connection.
            var username = TestUsers.UniqueUsername("replicas");
            using (var registered = await PostAsync(replicas[i % replicas.Count], "/api/users", new { username, password = TestUsers.DefaultPassword }, timeout.Token))
            {
                Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
            }

            TokenResponse tokens;
            using (var login = await PostAsync(replicas[(i + 1) % replicas.Count], "/api/tokens", new { username, password = TestUsers.DefaultPassword }, timeout.Token))
            {
                Assert.Equal(HttpStatusCode.OK, login.StatusCode);
                tokens = (await login.Content.ReadFromJsonAsync<TokenResponse>(timeout.Token))!;
            }

            foreach (var replica in replicas)
            {
                using var me = await GetAsync(replica, "/api/users/me", tokens.AccessToken, timeout.Token);
                Assert.True(me.StatusCode == HttpStatusCode.OK, $"user {i}: GET /api/users/me on {replica} answered {(int)me.StatusCode}");
            }

            // ChatService and the gateway check it with the JWKS, fetched from either replica.
            using var chats = await SendAsync(chat, HttpMethod.Get, "/api/chats", tokens.AccessToken, timeout.Token);
            Assert.True(chats.StatusCode == HttpStatusCode.OK, $"user {i}: GET /api/chats on chat answered {(int)chats.StatusCode}");
            using var proxied = await SendAsync(gateway, HttpMethod.Get, "/api/users/me", tokens.AccessToken, timeout.Token);
            Assert.True(proxied.StatusCode == HttpStatusCode.OK, $"user {i}: GET /api/users/me through the gateway answered {(int)proxied.StatusCode}");
        }

        Assert.Equal(1L, await CountSigningKeysAsync(timeout.Token));
        foreach (var replica in replicas)
        {
            Assert.Equal([keyId], await GetKeyIdsAsync(replica, timeout.Token));
        }
    }

    private static async Task<string[]> GetKeyIdsAsync(Uri replica, CancellationToken cancellationToken)
    {
        using var response = await GetAsync(replica, "/.well-known/jwks.json", accessToken: null, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var jwks = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return [.. jwks.RootElement.GetProperty("keys").EnumerateArray().Select(key => key.GetProperty("kid").GetString()!).Order(StringComparer.Ordinal)];
    }

    private async Task<long> CountSigningKeysAsync(CancellationToken cancellationToken)
    {
        var connectionString = await fixture.App.GetConnectionStringAsync("identitydb", cancellationToken);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM signing_keys", connection);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>A request on a connection of its own to that replica (a pooled client would stick to one).</summary>
    private static async Task<HttpResponseMessage> PostAsync(Uri replica, string path, object body, CancellationToken cancellationToken)
    {
        using var client = TestHttp.Create(replica);
        return await client.PostAsJsonAsync(path, body, cancellationToken);
    }

    private static async Task<HttpResponseMessage> GetAsync(Uri replica, string path, string? accessToken, CancellationToken cancellationToken)
    {
        using var client = TestHttp.Create(replica);
        return await SendAsync(client, HttpMethod.Get, path, accessToken, cancellationToken);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string? accessToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (accessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        return await client.SendAsync(request, cancellationToken);
    }
}
