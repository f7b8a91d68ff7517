using System.Net;
using System.Text.Json;

namespace Yac.Tests.Chats;

internal static class ProblemAssert
{
    /// <summary>RFC 9457 problem details with the given status.</summary>
    public static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal((int)status, body.RootElement.GetProperty("status").GetInt32());
        Assert.True(body.RootElement.TryGetProperty("title", out _), "problem details have a title");
        return body.RootElement.Clone();
    }

    /// <summary>400 validation problem details whose <c>errors</c> name <paramref name="field"/>.</summary>
    public static async Task IsValidationProblemAsync(HttpResponseMessage response, string field)
    {
        var problem = await IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.TryGetProperty("errors", out var errors), "validation problems have errors");
        Assert.Contains(errors.EnumerateObject(), error => error.Name == field);
    }
}
