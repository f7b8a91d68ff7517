using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Yac.ChatService.Chats;
using Yac.ChatService.Infrastructure;
using Yac.ChatService.Limits;
using Yac.ChatService.Users;
using Yac.ServiceDefaults.Authentication;

namespace Yac.ChatService.Membership;

/// <summary>
/// Joining, adding, leaving, removing and roles: <c>/api/chats/{chatId}/members/{userId}</c>.
/// Owners manage everyone, admins add anyone and remove plain members, members only join (public
/// chats) and leave; the owner's role passes on when the owner leaves.
/// </summary>
public static class MembershipApi
{
    public static IEndpointRouteBuilder MapMembershipApi(this IEndpointRouteBuilder app)
    {
        var members = app.MapGroup("/api/chats/{chatId}/members/{userId}")
            .RequireAuthorization()
            .WithTags("Membership")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .RequireRateLimiting(ChatRateLimits.MemberChanges);

        members.MapPut(string.Empty, AddAsync)
            .WithName("AddMember")
            .WithSummary("Join a public chat (yourself) or add someone (owner or admin); idempotent")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        members.MapDelete(string.Empty, RemoveAsync)
            .WithName("RemoveMember")
            .WithSummary("Leave (yourself) or remove someone (owner, or admin for plain members)");
        members.MapPut("/role", SetRoleAsync)
            .WithName("SetMemberRole")
            .WithSummary("Make a member an admin or a plain member again (owner only)");
        return app;
    }

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> AddAsync(
        Guid chatId, Guid userId, ClaimsPrincipal user, HttpContext context, ChatDbContext db,
        UserDirectory users, MembershipStore membership, CancellationToken cancellationToken)
    {
        var callerId = user.GetUserId();
        var access = await ChatAccess.FindAsync(db, chatId, callerId, cancellationToken);
        if (access is not { IsVisible: true })
        {
            return ChatAccess.NotFound();
        }

        if (userId == callerId)
        {
            if (!access.IsMember)
            {
                if (access.Kind == ChatKind.Direct || access.Visibility != ChatVisibility.Public)
                {
                    return ChatAccess.Forbidden("Only public chats can be joined without an invitation.");
                }

                await membership.AddAsync(chatId, userId, cancellationToken);
            }

            return TypedResults.NoContent();
        }

        if (access.Role is not (ChatRole.Owner or ChatRole.Admin))
        {
            return ChatAccess.Forbidden("Only the chat's owner or an admin can add members.");
        }

        if (access.Kind == ChatKind.Direct)
        {
            return DirectChatIsFixed();
        }

        try
        {
            var unknown = await users.FindUnknownAsync([userId], CallerToken.From(context), cancellationToken);
            if (unknown.Count > 0)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]>
                {
                    ["userId"] = [$"Unknown user id {userId:D}."],
                });
            }
        }
        catch (UserDirectoryUnavailableException)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Service Unavailable",
                detail: "The user id cannot be checked right now; nobody was added. Retry later.");
        }

        await membership.AddAsync(chatId, userId, cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(
        Guid chatId, Guid userId, ClaimsPrincipal user, ChatDbContext db, MembershipStore membership, CancellationToken cancellationToken)
    {
        var callerId = user.GetUserId();
        var access = await ChatAccess.FindAsync(db, chatId, callerId, cancellationToken);
        if (access is not { IsVisible: true })
        {
            return ChatAccess.NotFound();
        }

        // Leaving is always allowed (and leaving a chat you are not in changes nothing).
        if (userId == callerId)
        {
            await membership.RemoveAsync(chatId, userId, cancellationToken);
            return TypedResults.NoContent();
        }

        if (access.Role is not (ChatRole.Owner or ChatRole.Admin))
        {
            return ChatAccess.Forbidden("Only the chat's owner or an admin can remove members.");
        }

        var targetRole = await RoleOfAsync(db, chatId, userId, cancellationToken);
        if (targetRole is null)
        {
            return TypedResults.NoContent();
        }

        if (access.Role == ChatRole.Admin && targetRole != ChatRole.Member)
        {
            return ChatAccess.Forbidden("An admin can remove plain members only.");
        }

        await membership.RemoveAsync(chatId, userId, cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> SetRoleAsync(
        Guid chatId, Guid userId, SetRoleRequest request, ClaimsPrincipal user, ChatDbContext db,
        MembershipStore membership, CancellationToken cancellationToken)
    {
        var access = await ChatAccess.FindAsync(db, chatId, user.GetUserId(), cancellationToken);
        if (access is not { IsVisible: true })
        {
            return ChatAccess.NotFound();
        }

        if (access.Role != ChatRole.Owner)
        {
            return ChatAccess.Forbidden("Only the chat's owner can change roles.");
        }

        if (access.Kind == ChatKind.Direct)
        {
            return DirectChatIsFixed();
        }

        var targetRole = await RoleOfAsync(db, chatId, userId, cancellationToken);
        if (targetRole is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: "That user is not a member of this chat.");
        }

        if (targetRole == ChatRole.Owner)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest, title: "Bad Request",
                detail: "The owner's role changes only when the owner leaves.");
        }

        await membership.SetRoleAsync(chatId, userId, request.Role == "admin" ? ChatRole.Admin : ChatRole.Member, cancellationToken);
        return TypedResults.NoContent();
    }

    private static Task<ChatRole?> RoleOfAsync(ChatDbContext db, Guid chatId, Guid userId, CancellationToken cancellationToken)
        => db.ChatMembers
            .Where(member => member.ChatId == chatId && member.UserId == userId)
            .Select(member => (ChatRole?)member.Role)
            .FirstOrDefaultAsync(cancellationToken);

    private static ProblemHttpResult DirectChatIsFixed()
        => TypedResults.Problem(
            statusCode: StatusCodes.Status400BadRequest, title: "Bad Request",
            detail: "A direct chat's members and roles are fixed: it is between its two users.");
}
