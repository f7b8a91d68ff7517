using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Yac.Identity.Sessions;
using Yac.Identity.SigningKeys;
using Yac.Identity.Tokens;
using Yac.Identity.Users;

namespace Yac.Identity.Infrastructure;

internal sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public const string UsernameIndex = "ix_users_username";

    public void Configure(EntityTypeBuilder<User> builder)
    {
        builder.ToTable("users", table =>
            // Usernames are compared case-insensitively: the database holds only the lower-case
            // form, so the plain unique index below is a case-insensitive one.
            table.HasCheckConstraint("ck_users_username_lower_case", "username = lower(username)"));
        builder.HasKey(user => user.Id);
        builder.Property(user => user.Id).HasColumnName("id");
        builder.Property(user => user.Username).HasColumnName("username").HasMaxLength(32);
        builder.Property(user => user.DisplayName).HasColumnName("display_name").HasMaxLength(64);
        builder.Property(user => user.PasswordHash).HasColumnName("password_hash");
        builder.Property(user => user.CreatedAt).HasColumnName("created_at");
        builder.HasIndex(user => user.Username).IsUnique().HasDatabaseName(UsernameIndex);
    }
}

internal sealed class DeviceSessionConfiguration : IEntityTypeConfiguration<DeviceSession>
{
    public void Configure(EntityTypeBuilder<DeviceSession> builder)
    {
        builder.ToTable("device_sessions");
        builder.HasKey(session => session.Id);
        builder.Property(session => session.Id).HasColumnName("id");
        builder.Property(session => session.UserId).HasColumnName("user_id");
        builder.Property(session => session.DeviceName).HasColumnName("device_name").HasMaxLength(64);
        builder.Property(session => session.CreatedAt).HasColumnName("created_at");
        builder.Property(session => session.RevokedAt).HasColumnName("revoked_at");
        builder.Property(session => session.RevokedReason).HasColumnName("revoked_reason").HasMaxLength(32);
        builder.HasOne<User>().WithMany().HasForeignKey(session => session.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(session => session.UserId).HasDatabaseName("ix_device_sessions_user_id");
    }
}

internal sealed class RefreshTokenConfiguration : IEntityTypeConfiguration<RefreshToken>
{
    public void Configure(EntityTypeBuilder<RefreshToken> builder)
    {
        builder.ToTable("refresh_tokens");
        builder.HasKey(token => token.Id);
        builder.Property(token => token.Id).HasColumnName("id");
        builder.Property(token => token.DeviceSessionId).HasColumnName("device_session_id");
        builder.Property(token => token.TokenHash).HasColumnName("token_hash");
        builder.Property(token => token.CreatedAt).HasColumnName("created_at");
        builder.Property(token => token.ExpiresAt).HasColumnName("expires_at");
        builder.Property(token => token.UsedAt).HasColumnName("used_at");
        builder.HasOne<DeviceSession>().WithMany().HasForeignKey(token => token.DeviceSessionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(token => token.TokenHash).IsUnique().HasDatabaseName("ix_refresh_tokens_token_hash");
        builder.HasIndex(token => token.DeviceSessionId).HasDatabaseName("ix_refresh_tokens_device_session_id");
    }
}

internal sealed class SigningKeyConfiguration : IEntityTypeConfiguration<SigningKey>
{
    public void Configure(EntityTypeBuilder<SigningKey> builder)
    {
        builder.ToTable("signing_keys");
        builder.HasKey(key => key.Id);
        builder.Property(key => key.Id).HasColumnName("id").HasMaxLength(64);
        builder.Property(key => key.Algorithm).HasColumnName("algorithm").HasMaxLength(16);
        builder.Property(key => key.PublicJwk).HasColumnName("public_jwk");
        builder.Property(key => key.ProtectedPrivateKey).HasColumnName("protected_private_key");
        builder.Property(key => key.CreatedAt).HasColumnName("created_at");
        builder.HasIndex(key => key.CreatedAt).HasDatabaseName("ix_signing_keys_created_at");
    }
}
