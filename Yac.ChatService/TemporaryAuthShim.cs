using System.Security.Claims;

namespace Yac.ServiceDefaults.Authentication;

// TEMPORARY until Identity's shared authentication lands in main; delete on merge.
internal static class ClaimsPrincipalExtensions
{
    public static Guid GetUserId(this ClaimsPrincipal principal) => Guid.Parse(principal.FindFirstValue("sub")!);
}
