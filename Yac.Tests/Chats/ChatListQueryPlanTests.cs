using System.Text.Json;
using Aspire.Hosting.Testing;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Yac.ChatService.Chats;
using Yac.ChatService.Infrastructure;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Chats;

/// <summary>
/// <c>GET /api/chats</c> runs on every socket's connect: its cost must not grow with the number of
/// messages stored. PostgreSQL's own account of the very query ChatService runs (EXPLAIN ANALYZE of
/// <see cref="ChatListQuery"/>) says how many message rows it read.
/// </summary>
[Collection(YacServicesAppCollection.Name)]
public sealed class ChatListQueryPlanTests(YacAppFixture fixture)
{
    private const int StoredMessages = 20_000;

    [Fact]
    public async Task ListingMyChatsReadsOneMessageRowPerChatHoweverManyMessagesAreStored()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        var busy = await alice.CreateGroupAsync();
        var quiet = await alice.CreateGroupAsync();
        await alice.SendAsync(quiet.Id, "the only message here");
        await alice.SendAsync(busy.Id, "sent through the API");

        var connectionString = await fixture.App.GetConnectionStringAsync("chatdb", timeout.Token);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(timeout.Token);
            await StoreManyMessagesAsync(connection, busy.Id, alice.Id, timeout.Token);
        }

        // What the API answers with them in place: the newest message of each chat.
        var chats = await alice.ListChatsAsync();
        Assert.Equal([busy.Id, quiet.Id], chats.Select(chat => chat.Id));
        Assert.Equal(StoredMessages + 1, chats[0].LastMessage?.Seq);
        Assert.Equal("the only message here", chats[1].LastMessage?.Text);

        var options = new DbContextOptionsBuilder<ChatDbContext>().UseNpgsql(connectionString).UseSnakeCaseNamingConvention().Options;
        await using var db = new ChatDbContext(options);
        await using var explain = ChatListQuery.For(db, alice.Id).CreateDbCommand();
        explain.CommandText = "EXPLAIN (ANALYZE, FORMAT JSON) " + explain.CommandText;
        await db.Database.OpenConnectionAsync(timeout.Token);
        var plan = JsonDocument.Parse((string)(await explain.ExecuteScalarAsync(timeout.Token))!);

        var messageRowsRead = MessageRowsRead(plan.RootElement[0].GetProperty("Plan"));
        Assert.True(messageRowsRead <= chats.Count, $"the list read {messageRowsRead} message rows for {chats.Count} chats:\n{plan.RootElement}");
    }

    /// <summary>Bulk rows as the committer writes them (seq after the API's message, the chat's last_seq moved along).</summary>
    private static async Task StoreManyMessagesAsync(NpgsqlConnection connection, Guid chatId, Guid senderId, CancellationToken cancellationToken)
    {
        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO messages (chat_id, seq, id, sender_id, text, sent_at, client_msg_id)
            SELECT @chat_id, 1 + n, gen_random_uuid(), @sender_id, 'bulk ' || n, now(), 'bulk-' || n FROM generate_series(1, @count) AS n;
            UPDATE chats SET last_seq = 1 + @count, last_activity_at = now() WHERE id = @chat_id;
            ANALYZE messages;
            """,
            connection);
        insert.Parameters.AddWithValue("chat_id", chatId);
        insert.Parameters.AddWithValue("sender_id", senderId);
        insert.Parameters.AddWithValue("count", StoredMessages);
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Rows every scan of <c>messages</c> looked at: returned plus filtered out, times its loops.</summary>
    private static double MessageRowsRead(JsonElement node)
    {
        var read = 0.0;
        if (node.TryGetProperty("Relation Name", out var relation) && relation.GetString() == "messages")
        {
            var rows = node.GetProperty("Actual Rows").GetDouble();
            if (node.TryGetProperty("Rows Removed by Filter", out var removed))
            {
                rows += removed.GetDouble();
            }

            read += rows * node.GetProperty("Actual Loops").GetDouble();
        }

        if (node.TryGetProperty("Plans", out var children))
        {
            foreach (var child in children.EnumerateArray())
            {
                read += MessageRowsRead(child);
            }
        }

        return read;
    }
}
