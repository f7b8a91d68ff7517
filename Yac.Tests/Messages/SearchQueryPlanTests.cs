using System.Text.Json;
using Aspire.Hosting.Testing;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Yac.ChatService.Infrastructure;
using Yac.ChatService.Search;
using Xunit.Abstractions;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Messages;

/// <summary>
/// Search must stay fast as history grows: PostgreSQL's own account (EXPLAIN ANALYZE) of the very query
/// ChatService runs (<see cref="SearchQuery"/>), over 100,000 stored messages, shows the GIN index
/// finding the rows and the execution well under 20 ms.
/// </summary>
[Collection(YacServicesAppCollection.Name)]
public sealed class SearchQueryPlanTests(YacAppFixture fixture, ITestOutputHelper output)
{
    private const int StoredMessages = 100_000;

    /// <summary>Each topic word is in 1 of this many messages: 20 of the 100,000.</summary>
    private const int Topics = 5_000;

    private const double MaxExecutionMs = 20;

    [Fact]
    public async Task SearchOverAHundredThousandMessagesUsesTheGinIndexAndRunsUnderTwentyMilliseconds()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using var alice = await LifecycleClient.CreateAsync(fixture, "alice");
        var chatId = await alice.CreateGroupAsync();
        var connectionString = await fixture.App.GetConnectionStringAsync("chatdb", timeout.Token);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(timeout.Token);
            await StoreManyMessagesAsync(connection, chatId, alice.Id, timeout.Token);
        }

        // What the API answers with them in place: the 20 newest of the 20 that match, newest first.
        var topic = "topic1234";
        var found = await alice.SearchAsync(topic);
        Assert.Equal(Enumerable.Range(0, 20).Select(index => 1234L + ((19 - index) * Topics)), found.Select(message => message.Seq));

        var options = new DbContextOptionsBuilder<ChatDbContext>().UseNpgsql(connectionString).UseSnakeCaseNamingConvention().Options;
        await using var db = new ChatDbContext(options);
        await db.Database.OpenConnectionAsync(timeout.Token);
        // The best of five runs: on a shared, loaded machine one run may lose the CPU midway.
        JsonElement best = default;
        var bestMs = double.MaxValue;
        for (var run = 0; run < 5; run++)
        {
            await using var explain = SearchQuery.For(db, alice.Id, topic, chatId: null, SearchApi.DefaultLimit).CreateDbCommand();
            explain.CommandText = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + explain.CommandText;
            using var plan = JsonDocument.Parse((string)(await explain.ExecuteScalarAsync(timeout.Token))!);
            var executionMs = plan.RootElement[0].GetProperty("Execution Time").GetDouble();
            if (executionMs < bestMs)
            {
                (bestMs, best) = (executionMs, plan.RootElement.Clone());
            }
        }

        output.WriteLine($"search over {StoredMessages} messages: {bestMs} ms (best of 5)\n{best}");
        // For the record (not a bound): a word that is in every stored message costs what sorting them all costs.
        await using (var everywhere = SearchQuery.For(db, alice.Id, "bulk", chatId: null, SearchApi.DefaultLimit).CreateDbCommand())
        {
            everywhere.CommandText = "EXPLAIN (ANALYZE, FORMAT JSON) " + everywhere.CommandText;
            using var plan = JsonDocument.Parse((string)(await everywhere.ExecuteScalarAsync(timeout.Token))!);
            output.WriteLine($"a word in all {StoredMessages} messages: {plan.RootElement[0].GetProperty("Execution Time").GetDouble()} ms");
        }

        var root = best[0].GetProperty("Plan");
        Assert.True(UsesIndex(root, "ix_messages_search_vector"), $"the search did not use the GIN index:\n{best}");
        Assert.False(ScansSequentially(root, "messages"), $"the search read the messages table sequentially:\n{best}");
        Assert.True(bestMs < MaxExecutionMs, $"the search took {bestMs} ms (best of 5) over {StoredMessages} messages:\n{best}");
    }

    /// <summary>Bulk rows as the committer writes them; then the statistics and the GIN index brought up to date, as autovacuum does.</summary>
    private static async Task StoreManyMessagesAsync(NpgsqlConnection connection, Guid chatId, Guid senderId, CancellationToken cancellationToken)
    {
        await using (var insert = new NpgsqlCommand(
            """
            INSERT INTO messages (chat_id, seq, id, sender_id, text, sent_at, client_msg_id)
            SELECT @chat_id, n, gen_random_uuid(), @sender_id,
                   'bulk message number ' || n || ' about topic' || (n % @topics) || ' and more words to index',
                   now() - make_interval(secs => @count - n), 'bulk-' || n
            FROM generate_series(1, @count) AS n;
            UPDATE chats SET last_seq = @count, last_activity_at = now() WHERE id = @chat_id;
            """,
            connection))
        {
            insert.CommandTimeout = 120;
            insert.Parameters.AddWithValue("chat_id", chatId);
            insert.Parameters.AddWithValue("sender_id", senderId);
            insert.Parameters.AddWithValue("count", StoredMessages);
            insert.Parameters.AddWithValue("topics", Topics);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var vacuum = new NpgsqlCommand("VACUUM ANALYZE messages", connection) { CommandTimeout = 120 };
        await vacuum.ExecuteNonQueryAsync(cancellationToken);
    }

    private static bool UsesIndex(JsonElement node, string index)
        => (node.TryGetProperty("Index Name", out var name) && name.GetString() == index)
            || (node.TryGetProperty("Plans", out var children) && children.EnumerateArray().Any(child => UsesIndex(child, index)));

    private static bool ScansSequentially(JsonElement node, string table)
        => (node.GetProperty("Node Type").GetString() == "Seq Scan" && node.TryGetProperty("Relation Name", out var relation) && relation.GetString() == table)
            || (node.TryGetProperty("Plans", out var children) && children.EnumerateArray().Any(child => ScansSequentially(child, table)));
}
