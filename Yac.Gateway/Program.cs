var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseDefaultProblemDetails();
app.UseWebClient();
app.MapDefaultEndpoints();
app.MapReverseProxy();

app.Run();
