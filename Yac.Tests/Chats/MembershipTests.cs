using System.Net;
using System.Net.Http.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Chats;

[Collection(YacServicesAppCollection.Name)]
public sealed class MembershipTests(YacAppFixture fixture)
{
    [Fact]
    public async Task CreatingAGroupMakesTheCreatorOwnerAndTheInvitedMembers()
    {
        using var owner = await ChatUser.CreateAsync(fixture, "owner");
        using var invited = await ChatUser.CreateAsync(fixture, "invited");

        using var response = await owner.PostCreateChatAsync(new { kind = "group", title = "Team", memberIds = new[] { invited.Id } });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var chat = (await response.Content.ReadFromJsonAsync<ChatJson>(ChatUser.Json))!;
        Assert.Equal($"/api/chats/{chat.Id:D}", response.Headers.Location?.OriginalString);
        Assert.Equal("group", chat.Kind);
        Assert.Equal("Team", chat.Title);
        Assert.Equal("private", chat.Visibility);
        Assert.Equal(owner.Id, chat.CreatedBy);
        Assert.Equal(0, chat.LastSeq);
        Assert.Equal("owner", chat.RoleOf(owner.Id));
        Assert.Equal("member", chat.RoleOf(invited.Id));
        Assert.Equal(2, chat.Members.Count);
        Assert.Equal(chat, await invited.GetChatAsync(chat.Id), ChatComparer.Instance);
    }

    [Fact]
    public async Task AnyoneCanJoinAPublicChatThemselves()
    {
        using var owner = await ChatUser.CreateAsync(fixture, "owner");
        using var joiner = await ChatUser.CreateAsync(fixture, "joiner");
        var chat = await owner.CreateGroupAsync("public");

        Assert.Equal(chat.Id, (await joiner.GetChatAsync(chat.Id)).Id);
        using var joined = await joiner.PutMemberAsync(chat.Id, joiner.Id);
        using var joinedAgain = await joiner.PutMemberAsync(chat.Id, joiner.Id);

        Assert.Equal(HttpStatusCode.NoContent, joined.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, joinedAgain.StatusCode);
        var members = (await owner.GetChatAsync(chat.Id)).Members;
        Assert.Equal(1, members.Count(member => member.UserId == joiner.Id));
        Assert.Equal("member", members.Single(member => member.UserId == joiner.Id).Role);
        await joiner.SendAsync(chat.Id, "hello, I joined");
    }

    [Fact]
    public async Task JoiningAPrivateChatWithoutAnInvitationIsRefusedAsNotFound()
    {
        using var owner = await ChatUser.CreateAsync(fixture, "owner");
        using var stranger = await ChatUser.CreateAsync(fixture, "stranger");
        var chat = await owner.CreateGroupAsync("private");

        using var response = await stranger.PutMemberAsync(chat.Id, stranger.Id);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null((await owner.GetChatAsync(chat.Id)).RoleOf(stranger.Id));
    }

    [Fact]
    public async Task OwnerAndAdminsAddMembersButPlainMembersCannot()
    {
        using var owner = await ChatUser.CreateAsync(fixture, "owner");
        using var admin = await ChatUser.CreateAsync(fixture, "admin");
        using var member = await ChatUser.CreateAsync(fixture, "member");
        using var addedByOwner = await ChatUser.CreateAsync(fixture, "byowner");
        using var addedByAdmin = await ChatUser.CreateAsync(fixture, "byadmin");
        var chat = await owner.CreateGroupAsync("private", admin, member);
        using var promoted = await owner.PutRoleAsync(chat.Id, admin.Id, "admin");
        Assert.Equal(HttpStatusCode.NoContent, promoted.StatusCode);

        using var byOwner = await owner.PutMemberAsync(chat.Id, addedByOwner.Id);
        using var byAdmin = await admin.PutMemberAsync(chat.Id, addedByAdmin.Id);
        using var byMember = await member.PutMemberAsync(chat.Id, Guid.NewGuid());
        using var promotionByAdmin = await admin.PutRoleAsync(chat.Id, member.Id, "admin");

        Assert.Equal(HttpStatusCode.NoContent, byOwner.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, byAdmin.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byMember.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, promotionByAdmin.StatusCode);
        var current = await owner.GetChatAsync(chat.Id);
        Assert.Equal("admin", current.RoleOf(admin.Id));
        Assert.Equal("member", current.RoleOf(member.Id));
        Assert.Equal("member", current.RoleOf(addedByOwner.Id));
        Assert.Equal("member", current.RoleOf(addedByAdmin.Id));
        await addedByAdmin.SendAsync(chat.Id, "added by an admin, and talking");
    }

    [Fact]
    public async Task OwnerAndAdminsRemoveMembersButAPlainMemberCannot()
    {
        using var owner = await ChatUser.CreateAsync(fixture, "owner");
        using var admin = await ChatUser.CreateAsync(fixture, "admin");
        var members = await ChatUser.CreateManyAsync(fixture, 3, "member");
        var chat = await owner.CreateGroupAsync("private", [admin, .. members]);
        (await owner.PutRoleAsync(chat.Id, admin.Id, "admin")).Dispose();

        using var byMember = await members[0].DeleteMemberAsync(chat.Id, members[1].Id);
        using var adminRemovesOwner = await admin.DeleteMemberAsync(chat.Id, owner.Id);
        using var byAdmin = await admin.DeleteMemberAsync(chat.Id, members[1].Id);
        using var byOwner = await owner.DeleteMemberAsync(chat.Id, members[2].Id);

        Assert.Equal(HttpStatusCode.Forbidden, byMember.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, adminRemovesOwner.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, byAdmin.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, byOwner.StatusCode);
        var current = await owner.GetChatAsync(chat.Id);
        Assert.Equal(new[] { owner.Id, admin.Id, members[0].Id }.Order(), current.Members.Select(member => member.UserId).Order());
        Assert.DoesNotContain(await members[1].ListChatsAsync(), summary => summary.Id == chat.Id);
        using var removedSends = await members[1].PostMessageAsync(chat.Id, "x", "still here?");
        Assert.Equal(HttpStatusCode.NotFound, removedSends.StatusCode);
        foreach (var user in members)
        {
            user.Dispose();
        }
    }

    [Fact]
    public async Task SendToChatYouLeftIsRefused()
    {
        using var owner = await ChatUser.CreateAsync(fixture, "owner");
        using var leaver = await ChatUser.CreateAsync(fixture, "leaver");
        var chat = await owner.CreateGroupAsync("private", leaver);
        await leaver.SendAsync(chat.Id, "bye");

        using var left = await leaver.DeleteMemberAsync(chat.Id, leaver.Id);
        using var sendAfterLeaving = await leaver.PostMessageAsync(chat.Id, Guid.NewGuid().ToString(), "I am back?");
        using var historyAfterLeaving = await leaver.Chat.GetAsync($"/api/chats/{chat.Id}/messages");

        Assert.Equal(HttpStatusCode.NoContent, left.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, sendAfterLeaving.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, historyAfterLeaving.StatusCode);
        Assert.Null((await owner.GetChatAsync(chat.Id)).RoleOf(leaver.Id));
        Assert.Equal(1, (await owner.GetChatAsync(chat.Id)).LastSeq);
    }

    [Fact]
    public async Task OwnerLeavingHandsOwnershipToTheLongestStandingAdmin()
    {
        using var owner = await ChatUser.CreateAsync(fixture, "owner");
        using var member = await ChatUser.CreateAsync(fixture, "member");
        using var firstAdmin = await ChatUser.CreateAsync(fixture, "admin1");
        using var secondAdmin = await ChatUser.CreateAsync(fixture, "admin2");
        var chat = await owner.CreateGroupAsync("private", member);
        // Joined later than the plain member, yet admins come first; among admins the earlier one wins.
        (await owner.PutMemberAsync(chat.Id, firstAdmin.Id)).Dispose();
        (await owner.PutMemberAsync(chat.Id, secondAdmin.Id)).Dispose();
        (await owner.PutRoleAsync(chat.Id, secondAdmin.Id, "admin")).Dispose();
        (await owner.PutRoleAsync(chat.Id, firstAdmin.Id, "admin")).Dispose();

        using var left = await owner.DeleteMemberAsync(chat.Id, owner.Id);

        Assert.Equal(HttpStatusCode.NoContent, left.StatusCode);
        var current = await member.GetChatAsync(chat.Id);
        Assert.Equal("owner", current.RoleOf(firstAdmin.Id));
        Assert.Equal("admin", current.RoleOf(secondAdmin.Id));
        Assert.Equal("member", current.RoleOf(member.Id));
        Assert.Single(current.Members, m => m.Role == "owner");
        using var newOwnerRemoves = await firstAdmin.DeleteMemberAsync(chat.Id, secondAdmin.Id);
        Assert.Equal(HttpStatusCode.NoContent, newOwnerRemoves.StatusCode);
    }

    [Fact]
    public async Task OwnerLeavingWithoutAdminsHandsOwnershipToTheLongestStandingMember()
    {
        using var owner = await ChatUser.CreateAsync(fixture, "owner");
        using var earlier = await ChatUser.CreateAsync(fixture, "earlier");
        using var later = await ChatUser.CreateAsync(fixture, "later");
        var chat = await owner.CreateGroupAsync("private", earlier);
        (await owner.PutMemberAsync(chat.Id, later.Id)).Dispose();

        (await owner.DeleteMemberAsync(chat.Id, owner.Id)).Dispose();

        var current = await later.GetChatAsync(chat.Id);
        Assert.Equal("owner", current.RoleOf(earlier.Id));
        Assert.Equal("member", current.RoleOf(later.Id));
        Assert.Null(current.RoleOf(owner.Id));
    }

    [Fact]
    public async Task AddingAnUnknownUserIsABadRequest()
    {
        using var owner = await ChatUser.CreateAsync(fixture, "owner");
        var chat = await owner.CreateGroupAsync();

        using var response = await owner.PutMemberAsync(chat.Id, Guid.NewGuid());

        await ProblemAssert.IsValidationProblemAsync(response, "userId");
        Assert.Single((await owner.GetChatAsync(chat.Id)).Members);
    }

    [Fact]
    public async Task CreatingAChatWithAnUnknownMemberIsABadRequestAndCreatesNothing()
    {
        using var owner = await ChatUser.CreateAsync(fixture, "owner");
        using var known = await ChatUser.CreateAsync(fixture, "known");

        using var group = await owner.PostCreateChatAsync(new { kind = "group", memberIds = new[] { known.Id, Guid.NewGuid() } });
        using var direct = await owner.PostCreateChatAsync(new { kind = "direct", memberIds = new[] { Guid.NewGuid() } });

        await ProblemAssert.IsValidationProblemAsync(group, "memberIds");
        await ProblemAssert.IsValidationProblemAsync(direct, "memberIds");
        Assert.Empty(await owner.ListChatsAsync());
        Assert.Empty(await known.ListChatsAsync());
    }

    [Fact]
    public async Task ADirectChatBetweenTwoUsersIsUniqueEvenWhenBothCreateItAtOnce()
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        using var bob = await ChatUser.CreateAsync(fixture, "bob");

        var attempts = Enumerable.Range(0, 6)
            .Select(index => index % 2 == 0
                ? alice.PostCreateChatAsync(new { kind = "direct", memberIds = new[] { bob.Id } })
                : bob.PostCreateChatAsync(new { kind = "direct", memberIds = new[] { alice.Id } }))
            .ToList();
        var responses = await Task.WhenAll(attempts);

        Assert.Single(responses, response => response.StatusCode == HttpStatusCode.Created);
        Assert.Equal(5, responses.Count(response => response.StatusCode == HttpStatusCode.OK));
        var chats = await Task.WhenAll(responses.Select(response => response.Content.ReadFromJsonAsync<ChatJson>(ChatUser.Json)));
        Assert.Single(chats.Select(chat => chat!.Id).Distinct());
        var chat = chats[0]!;
        Assert.Equal("direct", chat.Kind);
        Assert.Equal("private", chat.Visibility);
        Assert.Equal([alice.Id, bob.Id], chat.Members.Select(member => member.UserId).Order());
        Assert.Single(await alice.ListChatsAsync());
        Assert.Single(await bob.ListChatsAsync());
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task ADirectChatIsBetweenExactlyTwoUsers()
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        using var bob = await ChatUser.CreateAsync(fixture, "bob");
        using var carol = await ChatUser.CreateAsync(fixture, "carol");

        using var withTwoOthers = await alice.PostCreateChatAsync(new { kind = "direct", memberIds = new[] { bob.Id, carol.Id } });
        using var withSelf = await alice.PostCreateChatAsync(new { kind = "direct", memberIds = new[] { alice.Id } });
        using var created = await alice.PostCreateChatAsync(new { kind = "direct", memberIds = new[] { bob.Id } });
        var direct = (await created.Content.ReadFromJsonAsync<ChatJson>(ChatUser.Json))!;
        using var addThird = await alice.PutMemberAsync(direct.Id, carol.Id);

        await ProblemAssert.IsValidationProblemAsync(withTwoOthers, "memberIds");
        await ProblemAssert.IsValidationProblemAsync(withSelf, "memberIds");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, addThird.StatusCode);
        Assert.Equal(2, (await bob.GetChatAsync(direct.Id)).Members.Count);
    }
}

/// <summary>Two reads of one chat agree on everything a client sees.</summary>
internal sealed class ChatComparer : IEqualityComparer<ChatJson>
{
    public static readonly ChatComparer Instance = new();

    public bool Equals(ChatJson? x, ChatJson? y)
        => x is not null && y is not null
            && (x.Id, x.Kind, x.Title, x.Visibility, x.CreatedAt, x.CreatedBy, x.LastSeq) == (y.Id, y.Kind, y.Title, y.Visibility, y.CreatedAt, y.CreatedBy, y.LastSeq)
            && x.Members.OrderBy(m => m.UserId).SequenceEqual(y.Members.OrderBy(m => m.UserId));

    public int GetHashCode(ChatJson obj) => obj.Id.GetHashCode();
}
