using Microsoft.EntityFrameworkCore;

namespace Yac.ChatService.Infrastructure;

public sealed class ChatDbContext(DbContextOptions<ChatDbContext> options) : DbContext(options);
