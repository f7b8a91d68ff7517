using System.Security.Claims;

namespace Yac.ServiceDefaults.Authentication;

/// <summary>
/// Reads YAC's claims from an authenticated user. In a minimal API handler:
/// <code>static Ok&lt;Chat&gt; Handle(ClaimsPrincipal user) => ... user.GetUserId() ...</code>
/// </summary>
public static class ClaimsPrincipalExtensions
{
    /// <summary>The user id (<c>sub</c>). Throws if the principal was not authenticated by a YAC access token.</summary>
    public static Guid GetUserId(this ClaimsPrincipal principal)
        => principal.TryGetUserId(out var userId)
            ? userId
            : throw new InvalidOperationException("The principal has no user id; is the endpoint missing RequireAuthorization()?");

    /// <summary>The device id (<c>did</c>). Throws if the principal was not authenticated by a YAC access token.</summary>
    public static Guid GetDeviceId(this ClaimsPrincipal principal)
        => principal.TryGetDeviceId(out var deviceId)
            ? deviceId
            : throw new InvalidOperationException("The principal has no device id; is the endpoint missing RequireAuthorization()?");

    public static bool TryGetUserId(this ClaimsPrincipal principal, out Guid userId)
        => Guid.TryParse(principal.FindFirstValue(YacClaimTypes.Subject), out userId);

    public static bool TryGetDeviceId(this ClaimsPrincipal principal, out Guid deviceId)
        => Guid.TryParse(principal.FindFirstValue(YacClaimTypes.DeviceId), out deviceId);
}
