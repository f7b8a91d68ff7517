using Yac.Identity.SigningKeys;
using Yac.Identity.Tokens;
using Yac.Identity.Users;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseDefaultProblemDetails();
app.UseAuthentication();
app.UseAuthorization();
app.MapDefaultEndpoints();

app.MapUsersApi();
app.MapTokensApi();
app.MapJwksApi();

app.Run();
