using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Yac.ChatService.Changes;
using Yac.ChatService.Infrastructure;
using Yac.ChatService.Limits;
using Yac.ChatService.Membership;
using Yac.ChatService.Messages;
using Yac.ChatService.Users;
using Yac.ServiceDefaults.Authentication;

namespace Yac.ChatService.Chats;

/// <summary>Creating, listing and reading chats: <c>/api/chats</c>.</summary>
public static class ChatsApi
{
    /// <summary>A group's initial member list is bounded so one request stays one short transaction.</summary>
    public const int MaxInitialMembers = 1000;

    public static IEndpointRouteBuilder MapChatsApi(this IEndpointRouteBuilder app)
    {
        var chats = app.MapGroup("/api/chats")
            .RequireAuthorization()
            .WithTags("Chats")
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        chats.MapPost(string.Empty, CreateAsync)
            .WithName("CreateChat")
            .WithSummary("Create a group or direct chat (a direct chat that exists already: 200 with it)")
            .RequireRateLimiting(ChatRateLimits.ChatCreation)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        chats.MapGet(string.Empty, ListMineAsync)
            .WithName("ListMyChats")
            .WithSummary("My chats, most recent activity first");
        chats.MapGet("/{chatId}", GetAsync)
            .WithName("GetChat")
            .WithSummary("A chat with its members (public chats: visible to all)")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        chats.MapPatch("/{chatId}", UpdateAsync)
            .WithName("UpdateChat")
            .WithSummary("Change a group's title or visibility (owner or admin); members get chatUpdated")
            .RequireRateLimiting(ChatRateLimits.MemberChanges)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        return app;
    }

    public static async Task<Results<Created<ChatResponse>, Ok<ChatResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateChatRequest request, ClaimsPrincipal user, HttpContext context, ChatDbContext db,
        UserDirectory users, MembershipStore membership, ChangePublisher publisher, TimeProvider time, CancellationToken cancellationToken)
    {
        var creatorId = user.GetUserId();
        var kind = request.Kind == "direct" ? ChatKind.Direct : ChatKind.Group;
        var otherIds = request.MemberIds!.Where(id => id != creatorId).Distinct().ToList();

        if (Validate(request, kind, otherIds) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        try
        {
            var unknown = await users.FindUnknownAsync(otherIds, CallerToken.From(context), cancellationToken);
            if (unknown.Count > 0)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]>
                {
                    ["memberIds"] = [.. unknown.Select(id => $"Unknown user id {id:D}.")],
                });
            }
        }
        catch (UserDirectoryUnavailableException)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Service Unavailable",
                detail: "User ids cannot be checked right now; nothing was created. Retry later.");
        }

        if (kind == ChatKind.Direct)
        {
            var directKey = Chat.DirectKeyFor(creatorId, otherIds[0]);
            if (await db.Chats.AnyAsync(chat => chat.DirectKey == directKey, cancellationToken))
            {
                return TypedResults.Ok(await ReturnExistingDirectAsync(db, membership, directKey, [creatorId, otherIds[0]], cancellationToken));
            }
        }

        // PostgreSQL keeps microseconds: the answer to this request must equal every later read.
        var utcNow = time.GetUtcNow().UtcDateTime;
        var now = utcNow.AddTicks(-(utcNow.Ticks % TimeSpan.TicksPerMicrosecond));
        // Every initial member joins in the chat's log (the creator first): revs 1..n, written with the chat.
        Guid[] memberIds = [creatorId, .. otherIds];
        var cause = ChangeLog.Cause;
        var traceParent = ChangeTrace.Format(cause);
        var chat = new Chat
        {
            Id = Guid.CreateVersion7(),
            Kind = kind,
            Title = kind == ChatKind.Group ? request.Title : null,
            Visibility = request.Visibility == "public" ? ChatVisibility.Public : ChatVisibility.Private,
            CreatedAt = now,
            CreatedBy = creatorId,
            LastActivityAt = now,
            DirectKey = kind == ChatKind.Direct ? Chat.DirectKeyFor(creatorId, otherIds[0]) : null,
            Rev = memberIds.Length,
            Members = [.. memberIds.Select((id, index) => new ChatMember
            {
                UserId = id,
                Role = index == 0 ? ChatRole.Owner : ChatRole.Member,
                JoinedAt = now,
                JoinedRev = index + 1,
            })],
        };

        db.Chats.Add(chat);
        db.ChatChanges.AddRange(memberIds.Select((id, index) => new ChatChange
        {
            ChatId = chat.Id,
            Rev = index + 1,
            Type = ChangeTypes.MemberJoined,
            UserId = id,
            ChangedAt = now,
            TraceParent = traceParent,
        }));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (kind == ChatKind.Direct && IsUniqueViolation(exception))
        {
            // The pair's direct chat exists (perhaps created at this very moment by the other user).
            db.ChangeTracker.Clear();
            return TypedResults.Ok(await ReturnExistingDirectAsync(db, membership, chat.DirectKey!, [creatorId, otherIds[0]], cancellationToken));
        }

        publisher.Committed([.. memberIds.Select((id, index) => new CommittedChange(
            chat.Id, index + 1, ChangeTypes.MemberJoined, id, null, ChangeFrames.Member(ChangeTypes.MemberJoined, chat.Id, id, index + 1), cause))]);

        return TypedResults.Created($"/api/chats/{chat.Id:D}", ChatResponse.From(chat));
    }

    public static async Task<Ok<List<ChatSummaryResponse>>> ListMineAsync(ClaimsPrincipal user, ChatDbContext db, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        var rows = await ChatListQuery.For(db, userId)
            .ToListAsync(cancellationToken);
        // Every last message's reactions in one query.
        var reactions = await MessageReactions.LoadAsync(
            db, rows.Where(row => row.LastMessage is not null).Select(row => (row.Id, row.LastMessage!.Seq)), cancellationToken);

        return TypedResults.Ok(rows
            .Select(row => new ChatSummaryResponse(
                row.Id,
                row.Kind,
                row.Title,
                row.Visibility,
                row.LastSeq,
                row.LastReadSeq,
                Math.Max(0, row.LastSeq - row.LastReadSeq),
                row.LastMessage is null ? null : MessageResponse.From(row.LastMessage, reactions.GetValueOrDefault((row.Id, row.LastMessage.Seq))),
                row.Rev,
                row.JoinedRev))
            .ToList());
    }

    public static async Task<Results<Ok<ChatResponse>, ProblemHttpResult>> GetAsync(
        Guid chatId, ClaimsPrincipal user, ChatDbContext db, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        var chat = await db.Chats.AsNoTracking().Include(chat => chat.Members)
            .FirstOrDefaultAsync(chat => chat.Id == chatId, cancellationToken);
        if (chat is null || (chat.Visibility != ChatVisibility.Public && chat.Members.TrueForAll(member => member.UserId != userId)))
        {
            return ChatAccess.NotFound();
        }

        return TypedResults.Ok(ChatResponse.From(chat));
    }

    public static async Task<Results<Ok<ChatResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        Guid chatId, UpdateChatRequest request, ClaimsPrincipal user, ChatDbContext db, ChatSettingsStore settings, CancellationToken cancellationToken)
    {
        var access = await ChatAccess.FindAsync(db, chatId, user.GetUserId(), cancellationToken);
        if (access is not { IsVisible: true })
        {
            return ChatAccess.NotFound();
        }

        if (access.Kind == ChatKind.Direct)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["chatId"] = ["A direct chat has no title and is always private."],
            });
        }

        if (access.Role is not (ChatRole.Owner or ChatRole.Admin))
        {
            return ChatAccess.Forbidden("Only the group's owner or an admin can change it.");
        }

        ChatVisibility? visibility = request.Visibility switch
        {
            "public" => ChatVisibility.Public,
            "private" => ChatVisibility.Private,
            _ => null,
        };
        var chat = await settings.UpdateAsync(chatId, request.Title, visibility, cancellationToken);
        return chat is null ? ChatAccess.NotFound() : TypedResults.Ok(ChatResponse.From(chat));
    }

    private static Dictionary<string, string[]>? Validate(CreateChatRequest request, ChatKind kind, List<Guid> otherIds)
    {
        var errors = new Dictionary<string, string[]>();
        if (kind == ChatKind.Direct)
        {
            if (otherIds.Count != 1)
            {
                errors["memberIds"] = ["A direct chat needs exactly one other member."];
            }

            if (request.Visibility == "public")
            {
                errors["visibility"] = ["A direct chat is always private."];
            }
        }
        else if (otherIds.Count > MaxInitialMembers)
        {
            errors["memberIds"] = [$"At most {MaxInitialMembers} members at creation."];
        }

        if (otherIds.Contains(Guid.Empty))
        {
            errors["memberIds"] = ["Member ids must be valid user ids."];
        }

        return errors.Count > 0 ? errors : null;
    }

    /// <summary>
    /// The pair's existing direct chat. Whoever of the two had left it is a member again: asking for
    /// the direct chat with someone means wanting to talk to them.
    /// </summary>
    private static async Task<ChatResponse> ReturnExistingDirectAsync(
        ChatDbContext db, MembershipStore membership, string directKey, Guid[] pair, CancellationToken cancellationToken)
    {
        var chatId = await db.Chats.Where(chat => chat.DirectKey == directKey).Select(chat => chat.Id).SingleAsync(cancellationToken);
        foreach (var userId in pair)
        {
            await membership.AddAsync(chatId, userId, cancellationToken);
        }

        var chat = await db.Chats.AsNoTracking().Include(chat => chat.Members).SingleAsync(chat => chat.Id == chatId, cancellationToken);
        return ChatResponse.From(chat);
    }

    private static bool IsUniqueViolation(DbUpdateException exception)
        => exception.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };
}
