using System.Net.Http.Headers;

namespace Yac.ChatService.Infrastructure;

internal static class CallerToken
{
    /// <summary>The caller's own bearer token, forwarded when ChatService asks Identity on the caller's behalf.</summary>
    public static AuthenticationHeaderValue From(HttpContext context)
        => AuthenticationHeaderValue.Parse(context.Request.Headers.Authorization.ToString());
}
