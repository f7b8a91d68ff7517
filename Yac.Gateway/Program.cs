using Yac.Gateway.Proxy;
using Yac.Gateway.Sockets;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseForwardedHeaders();
app.UseDefaultProblemDetails();
app.UseWebClient();
app.UseWebSockets();

app.MapDefaultEndpoints();
app.MapWebSocketApi();
app.MapReverseProxy(proxy =>
{
    proxy.UseBodyCaps();
    proxy.UseDependencyGate();
    proxy.UseSessionAffinity();
    proxy.UseLoadBalancing();
    proxy.UsePassiveHealthChecks();
});

app.Run();
