using Aspire.Hosting.Testing;
using Npgsql;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Gateway;

/// <summary>
/// Makes ChatService slow for one chat the way a slow database does, without stopping anything:
/// holds the chat's row lock in chatdb, which every commit of a message to that chat must take, so its
/// sends wait inside ChatService until the stall is disposed (then they commit, in order).
/// </summary>
internal sealed class ChatCommitStall : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;

    private ChatCommitStall(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        _connection = connection;
        _transaction = transaction;
    }

    public static async Task<ChatCommitStall> StartAsync(YacAppFixture fixture, Guid chatId, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(await fixture.App.GetConnectionStringAsync("chatdb", cancellationToken));
        await connection.OpenAsync(cancellationToken);
        var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT id FROM chats WHERE id = @chat_id FOR UPDATE", connection, transaction);
        command.Parameters.AddWithValue("chat_id", chatId);
        Assert.Equal(chatId, await command.ExecuteScalarAsync(cancellationToken));
        return new ChatCommitStall(connection, transaction);
    }

    /// <summary>Lets ChatService go on: the waiting commits proceed.</summary>
    public async ValueTask DisposeAsync()
    {
        await _transaction.RollbackAsync();
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
