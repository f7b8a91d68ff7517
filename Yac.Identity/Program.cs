using Scalar.AspNetCore;
using Yac.Identity.Infrastructure;
using Yac.Identity.Sessions;
using Yac.Identity.SigningKeys;
using Yac.Identity.Tokens;
using Yac.Identity.Users;
using Yac.Shared;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

// Kubernetes' migrate init container: Yac:Database:Migrations=ApplyAndExit migrates and stops here.
if (app.IsMigrationOnlyRun())
{
    await app.MigrateAndExitAsync<IdentityDbContext>();
    return;
}

app.UseForwardedHeaders();
app.UseDefaultProblemDetails();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();

app.MapDefaultEndpoints();
app.MapOpenApi();
if (app.Environment.IsDevelopment())
{
    app.MapScalarApiReference();
}

app.MapUsersApi();
app.MapTokensApi();
app.MapSessionsApi();
app.MapJwksApi();

app.Run();
