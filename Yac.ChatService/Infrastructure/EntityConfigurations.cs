using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Yac.ChatService.Chats;
using Yac.ChatService.Membership;
using Yac.ChatService.Messages;

namespace Yac.ChatService.Infrastructure;

// Table and column names are snake_case (UseSnakeCaseNamingConvention) because the hot paths use raw SQL.
// Enums are stored as their lower-case names so the database reads like the API.

internal sealed class ChatConfiguration : IEntityTypeConfiguration<Chat>
{
    public void Configure(EntityTypeBuilder<Chat> builder)
    {
        builder.ToTable("chats");
        builder.HasKey(chat => chat.Id);
        builder.Property(chat => chat.Kind).HasConversion(LowerCaseEnum<ChatKind>.Converter).HasMaxLength(16);
        builder.Property(chat => chat.Visibility).HasConversion(LowerCaseEnum<ChatVisibility>.Converter).HasMaxLength(16);
        builder.Property(chat => chat.Title).HasMaxLength(100);
        builder.Property(chat => chat.DirectKey).HasMaxLength(65);
        builder.HasIndex(chat => chat.DirectKey).IsUnique().HasFilter("direct_key IS NOT NULL");
        // The change publisher's work list: chats with changes not yet on Redis (few at any time).
        builder.HasIndex(chat => chat.Id).HasDatabaseName("ix_chats_unpublished").HasFilter("rev > published_rev");
        builder.HasMany(chat => chat.Members).WithOne().HasForeignKey(member => member.ChatId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ChatMemberConfiguration : IEntityTypeConfiguration<ChatMember>
{
    public void Configure(EntityTypeBuilder<ChatMember> builder)
    {
        builder.ToTable("chat_members");
        builder.HasKey(member => new { member.ChatId, member.UserId });
        builder.Property(member => member.Role).HasConversion(LowerCaseEnum<ChatRole>.Converter).HasMaxLength(16);
        // "My chats": every membership of one user.
        builder.HasIndex(member => member.UserId);
    }
}

internal sealed class MessageConfiguration : IEntityTypeConfiguration<Message>
{
    public void Configure(EntityTypeBuilder<Message> builder)
    {
        builder.ToTable("messages");
        // History reads ranges of seq within one chat: the primary key is exactly that index.
        builder.HasKey(message => new { message.ChatId, message.Seq });
        builder.Property(message => message.Text).HasMaxLength(MessageLimits.TextMaxLength);
        builder.Property(message => message.ClientMsgId).HasMaxLength(MessageLimits.ClientMsgIdMaxLength);
        // Idempotent sends: a retry finds the original instead of storing a second copy.
        builder.HasIndex(message => new { message.ChatId, message.SenderId, message.ClientMsgId }).IsUnique();
        builder.HasOne<Chat>().WithMany().HasForeignKey(message => message.ChatId).OnDelete(DeleteBehavior.Cascade);
        // Full-text search: the generated tsvector column (messages.search_vector, to_tsvector('simple', text),
        // STORED) and its GIN index are created by the Lifecycle migration's SQL and deliberately not mapped, so
        // no read of a message entity carries it; search reads it in SQL (Search/SearchQuery.cs).
    }
}

internal sealed class MessageReactionConfiguration : IEntityTypeConfiguration<MessageReaction>
{
    public void Configure(EntityTypeBuilder<MessageReaction> builder)
    {
        builder.ToTable("message_reactions");
        // A page's reactions are read by (chat_id, seq): the key's prefix.
        builder.HasKey(reaction => new { reaction.ChatId, reaction.Seq, reaction.Emoji, reaction.UserId });
        builder.Property(reaction => reaction.Emoji).HasMaxLength(ReactionRules.EmojiMaxLength);
        builder.HasOne<Message>().WithMany().HasForeignKey(reaction => new { reaction.ChatId, reaction.Seq }).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MessageVersionConfiguration : IEntityTypeConfiguration<MessageVersion>
{
    public void Configure(EntityTypeBuilder<MessageVersion> builder)
    {
        builder.ToTable("message_versions");
        builder.HasKey(version => new { version.ChatId, version.Seq, version.Version });
        builder.Property(version => version.Text).HasMaxLength(MessageLimits.TextMaxLength);
        builder.HasOne<Message>().WithMany().HasForeignKey(version => new { version.ChatId, version.Seq }).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ChatChangeConfiguration : IEntityTypeConfiguration<Changes.ChatChange>
{
    public void Configure(EntityTypeBuilder<Changes.ChatChange> builder)
    {
        builder.ToTable("chat_changes");
        // Reads are always "this chat's changes after rev N": the primary key is exactly that index.
        builder.HasKey(change => new { change.ChatId, change.Rev });
        builder.Property(change => change.Type).HasMaxLength(32);
        builder.Property(change => change.TraceParent).HasMaxLength(Changes.ChangeTrace.MaxLength);
        builder.HasOne<Chat>().WithMany().HasForeignKey(change => change.ChatId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal static class LowerCaseEnum<TEnum>
    where TEnum : struct, Enum
{
    public static readonly Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<TEnum, string> Converter = new(
        value => value.ToString().ToLowerInvariant(),
        text => Enum.Parse<TEnum>(text, ignoreCase: true));
}
