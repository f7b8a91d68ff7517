using Yac.AppHost;
using Yac.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);
if (builder.ExecutionContext.IsRunMode)
{
    builder.Services.AddHostedService<StartupFailureReporter>();
}

// PostgreSQL and Redis: containers where a container runtime answers, local processes otherwise.
var infrastructure = builder.AddYacInfrastructure();

var identity = builder.AddProject<Projects.Yac_Identity>("identity")
    .WithHttpEndpoint(name: "http")
    .WithReplicas(ServiceReplicas.Identity(builder.Configuration))
    .WithReference(infrastructure.IdentityDb).WaitFor(infrastructure.IdentityDb)
    .WithReference(infrastructure.Redis).WaitFor(infrastructure.Redis)
    .WithHttpHealthCheck("/health");

var chat = builder.AddProject<Projects.Yac_ChatService>("chat")
    .WithHttpEndpoint(name: "http")
    .WithReplicas(ServiceReplicas.Chat(builder.Configuration))
    .WithReference(infrastructure.ChatDb).WaitFor(infrastructure.ChatDb)
    .WithReference(infrastructure.Redis).WaitFor(infrastructure.Redis)
    .WithReference(identity).WaitFor(identity)
    .WithHttpHealthCheck("/health");

var gatewayOptions = GatewayOptions.From(builder.Configuration);
builder.AddProject<Projects.Yac_Gateway>("gateway")
    .WithHttpEndpoint(name: "http", port: gatewayOptions.Port)
    .WithReplicas(gatewayOptions.Replicas)
    .WithReference(infrastructure.Redis).WaitFor(infrastructure.Redis)
    .WithReference(identity).WaitFor(identity)
    .WithReference(chat).WaitFor(chat)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();

builder.Build().Run();
