using Yac.Bench.SignalRBaseline;

var builder = WebApplication.CreateBuilder(args);

// The plain setup a team would write: SignalR, JSON hub protocol, Redis backplane; no storage, no auth.
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSignalR()
    .AddStackExchangeRedis(builder.Configuration.GetConnectionString("redis")
        ?? throw new InvalidOperationException("ConnectionStrings:redis is required."));

var app = builder.Build();

app.MapGet("/health", () => TypedResults.Ok("Healthy"));
app.MapHub<ChatHub>("/chat");

app.Run();
