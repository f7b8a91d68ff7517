using Scalar.AspNetCore;
using Yac.Identity.Sessions;
using Yac.Identity.SigningKeys;
using Yac.Identity.Tokens;
using Yac.Identity.Users;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseForwardedHeaders();
app.UseDefaultProblemDetails();
app.UseAuthentication();
app.UseAuthorization();

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
