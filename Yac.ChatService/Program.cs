using Scalar.AspNetCore;
using Yac.ChatService.Changes;
using Yac.ChatService.Chats;
using Yac.ChatService.Infrastructure;
using Yac.ChatService.Membership;
using Yac.ChatService.Messages;
using Yac.ChatService.Search;
using Yac.Shared;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

// Kubernetes' migrate init container: Yac:Database:Migrations=ApplyAndExit migrates and stops here.
if (app.IsMigrationOnlyRun())
{
    await app.MigrateAndExitAsync<ChatDbContext>();
    return;
}

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

app.MapChatsApi();
app.MapMembershipApi();
app.MapMessagesApi();
app.MapMessageLifecycleApi();
app.MapSendBatchApi();
app.MapChangesApi();
app.MapSearchApi();

app.Run();
