using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Yac.ServiceDefaults.Authentication;

namespace Yac.Identity.Sessions;

public static class SessionsApi
{
    public static IEndpointRouteBuilder MapSessionsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api").WithTags("Sessions").RequireAuthorization();

        group.MapPost("/logout", LogoutAsync)
            .WithSummary("Log out this device: its refresh token dies, its access tokens are refused everywhere, its sockets close");

        return app;
    }

    private static async Task<NoContent> LogoutAsync(
        ClaimsPrincipal principal, DeviceSessionService sessions, CancellationToken cancellationToken)
    {
        await sessions.RevokeAsync(principal.GetUserId(), principal.GetDeviceId(), RevocationReasons.Logout, cancellationToken);
        return TypedResults.NoContent();
    }
}
