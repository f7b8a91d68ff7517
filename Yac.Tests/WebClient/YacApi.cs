using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Yac.Tests.WebClient;

/// <summary>
/// The few REST calls the browser tests make behind the page's back (to prepare data fast), with
/// the page's own access token.
/// </summary>
public sealed class YacApi : IDisposable
{
    private readonly HttpClient _client;

    public YacApi(HttpClient client, string accessToken)
    {
        _client = client;
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
    }

    public async Task SendMessageAsync(string chatId, string text)
    {
        using var response = await _client.PostAsJsonAsync(
            $"/api/chats/{Uri.EscapeDataString(chatId)}/messages",
            new { clientMsgId = Guid.NewGuid().ToString(), text });
        response.EnsureSuccessStatusCode();
    }

    public void Dispose() => _client.Dispose();
}
