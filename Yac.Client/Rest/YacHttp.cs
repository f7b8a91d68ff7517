using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Yac.Client;

/// <summary>One REST call: JSON in, JSON or problem details out (as a <see cref="YacApiException"/>).</summary>
internal sealed class YacHttp(HttpClient http, Uri baseAddress, TimeSpan timeout)
{
    private static readonly MediaTypeHeaderValue s_json = new("application/json") { CharSet = "utf-8" };

    public Uri BaseAddress { get; } = baseAddress;

    public async Task<T> SendAsync<T>(
        HttpMethod method, string path, byte[]? body, string? accessToken, JsonTypeInfo<T> resultType, CancellationToken cancellationToken)
    {
        using var response = await SendCoreAsync(method, path, body, accessToken, cancellationToken);
        var result = await response.Content.ReadFromJsonAsync(resultType, cancellationToken);
        return result ?? throw new YacApiException(response.StatusCode, "Empty answer", $"{method} {path} answered without a body.");
    }

    public async Task SendAsync(HttpMethod method, string path, byte[]? body, string? accessToken, CancellationToken cancellationToken)
    {
        using var response = await SendCoreAsync(method, path, body, accessToken, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendCoreAsync(
        HttpMethod method, string path, byte[]? body, string? accessToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(BaseAddress, path));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (accessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        if (body is not null)
        {
            request.Content = new ByteArrayContent(body) { Headers = { ContentType = s_json } };
        }

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeoutSource.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{method} {path} took longer than {timeout.TotalSeconds:0} s.");
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await ReadProblemAsync(response, cancellationToken);
        }
    }

    private static async Task<YacApiException> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ProblemBody? problem = null;
        try
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (bytes.Length > 0)
            {
                problem = JsonSerializer.Deserialize(bytes, YacJson.Wire.ProblemBody);
            }
        }
        catch (JsonException)
        {
            // Not problem details (a proxy's page, say): the status alone says enough.
        }

        var retryAfter = response.Headers.RetryAfter is { } header
            ? header.Delta ?? (header.Date is { } date ? date - DateTimeOffset.UtcNow : null)
            : null;
        return YacApiException.Create(
            response.StatusCode,
            problem?.Title ?? response.ReasonPhrase,
            problem?.Detail,
            problem?.Errors,
            retryAfter);
    }

    /// <summary>The JSON body of a request.</summary>
    public static byte[] Body<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.SerializeToUtf8Bytes(value, type);

    internal static bool IsUnauthorized(Exception exception) =>
        exception is YacApiException { StatusCode: HttpStatusCode.Unauthorized };
}
