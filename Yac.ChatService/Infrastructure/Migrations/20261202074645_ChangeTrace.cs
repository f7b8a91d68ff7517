using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Yac.ChatService.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class ChangeTrace : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "trace_parent",
                table: "chat_changes",
                type: "character varying(55)",
                maxLength: 55,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "trace_parent",
                table: "chat_changes");
        }
    }
}
