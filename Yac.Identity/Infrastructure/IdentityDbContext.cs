using Microsoft.EntityFrameworkCore;

namespace Yac.Identity.Infrastructure;

public sealed class IdentityDbContext(DbContextOptions<IdentityDbContext> options) : DbContext(options);
