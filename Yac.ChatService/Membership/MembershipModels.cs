using System.ComponentModel.DataAnnotations;

namespace Yac.ChatService.Membership;

/// <summary>PUT /api/chats/{chatId}/members/{userId}/role (a YAC addition: how admins come to be).</summary>
public sealed record SetRoleRequest([property: Required, AllowedValues("admin", "member")] string Role);
