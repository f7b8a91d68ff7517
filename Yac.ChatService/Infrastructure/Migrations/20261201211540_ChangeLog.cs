using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Yac.ChatService.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class ChangeLog : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "rev",
                table: "messages",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "published_rev",
                table: "chats",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "rev",
                table: "chats",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "joined_rev",
                table: "chat_members",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateTable(
                name: "chat_changes",
                columns: table => new
                {
                    chat_id = table.Column<Guid>(type: "uuid", nullable: false),
                    rev = table.Column<long>(type: "bigint", nullable: false),
                    type = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    seq = table.Column<long>(type: "bigint", nullable: true),
                    user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    changed_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_chat_changes", x => new { x.chat_id, x.rev });
                    table.ForeignKey(
                        name: "fk_chat_changes_chats_chat_id",
                        column: x => x.chat_id,
                        principalTable: "chats",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_chats_unpublished",
                table: "chats",
                column: "id",
                filter: "rev > published_rev");

            // Chats from before the log: their messages become its first entries (rev = seq), already
            // published (the old publisher sent them); members joined "before rev 1".
            migrationBuilder.Sql("""
                INSERT INTO chat_changes (chat_id, rev, type, seq, changed_at)
                SELECT chat_id, seq, 'message', seq, sent_at FROM messages;
                UPDATE messages SET rev = seq;
                UPDATE chats SET rev = last_seq, published_rev = last_seq;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "chat_changes");

            migrationBuilder.DropIndex(
                name: "ix_chats_unpublished",
                table: "chats");

            migrationBuilder.DropColumn(
                name: "rev",
                table: "messages");

            migrationBuilder.DropColumn(
                name: "published_rev",
                table: "chats");

            migrationBuilder.DropColumn(
                name: "rev",
                table: "chats");

            migrationBuilder.DropColumn(
                name: "joined_rev",
                table: "chat_members");
        }
    }
}
