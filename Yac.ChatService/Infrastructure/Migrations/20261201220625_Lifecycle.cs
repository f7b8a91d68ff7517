using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Yac.ChatService.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class Lifecycle : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "deleted_at",
                table: "messages",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "edited_at",
                table: "messages",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "reply_to_seq",
                table: "messages",
                type: "bigint",
                nullable: true);

            // Full-text search (not in the EF model, so no message read carries it): a generated tsvector
            // with the 'simple' configuration (any language, by word; no stemming, no stop words) and its
            // GIN index. Adding a STORED column rewrites the table once.
            migrationBuilder.Sql(
                """
                ALTER TABLE messages ADD COLUMN search_vector tsvector
                    GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, text)) STORED;
                CREATE INDEX ix_messages_search_vector ON messages USING gin (search_vector);
                """);

            migrationBuilder.CreateTable(
                name: "message_reactions",
                columns: table => new
                {
                    chat_id = table.Column<Guid>(type: "uuid", nullable: false),
                    seq = table.Column<long>(type: "bigint", nullable: false),
                    emoji = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    reacted_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_message_reactions", x => new { x.chat_id, x.seq, x.emoji, x.user_id });
                    table.ForeignKey(
                        name: "fk_message_reactions_messages_chat_id_seq",
                        columns: x => new { x.chat_id, x.seq },
                        principalTable: "messages",
                        principalColumns: new[] { "chat_id", "seq" },
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "message_versions",
                columns: table => new
                {
                    chat_id = table.Column<Guid>(type: "uuid", nullable: false),
                    seq = table.Column<long>(type: "bigint", nullable: false),
                    version = table.Column<int>(type: "integer", nullable: false),
                    text = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    written_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_message_versions", x => new { x.chat_id, x.seq, x.version });
                    table.ForeignKey(
                        name: "fk_message_versions_messages_chat_id_seq",
                        columns: x => new { x.chat_id, x.seq },
                        principalTable: "messages",
                        principalColumns: new[] { "chat_id", "seq" },
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "message_reactions");

            migrationBuilder.DropTable(
                name: "message_versions");

            migrationBuilder.Sql("DROP INDEX ix_messages_search_vector; ALTER TABLE messages DROP COLUMN search_vector;");

            migrationBuilder.DropColumn(
                name: "deleted_at",
                table: "messages");

            migrationBuilder.DropColumn(
                name: "edited_at",
                table: "messages");

            migrationBuilder.DropColumn(
                name: "reply_to_seq",
                table: "messages");
        }
    }
}
