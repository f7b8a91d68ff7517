using Microsoft.EntityFrameworkCore;
using Yac.ChatService.Chats;
using Yac.ChatService.Membership;
using Yac.ChatService.Messages;

namespace Yac.ChatService.Infrastructure;

public sealed class ChatDbContext(DbContextOptions<ChatDbContext> options) : DbContext(options)
{
    public DbSet<Chat> Chats => Set<Chat>();

    public DbSet<ChatMember> ChatMembers => Set<ChatMember>();

    public DbSet<Message> Messages => Set<Message>();

    public DbSet<MessageReaction> MessageReactions => Set<MessageReaction>();

    public DbSet<MessageVersion> MessageVersions => Set<MessageVersion>();

    public DbSet<Changes.ChatChange> ChatChanges => Set<Changes.ChatChange>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
        => modelBuilder.ApplyConfigurationsFromAssembly(typeof(ChatDbContext).Assembly);
}
