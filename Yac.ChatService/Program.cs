using Scalar.AspNetCore;
using Yac.ChatService.Chats;
using Yac.ChatService.Membership;
using Yac.ChatService.Messages;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseDefaultProblemDetails();
app.UseAuthentication();
app.UseAuthorization();
app.MapDefaultEndpoints();

app.MapOpenApi();
if (app.Environment.IsDevelopment())
{
    app.MapScalarApiReference();
}

app.MapChatsApi();
app.MapMembershipApi();
app.MapMessagesApi();
app.MapSendBatchApi();

app.Run();
