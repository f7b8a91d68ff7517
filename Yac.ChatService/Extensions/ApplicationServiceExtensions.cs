using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using Yac.ChatService.Changes;
using Yac.ChatService.Chats;
using Yac.ChatService.Events;
using Yac.ChatService.Infrastructure;
using Yac.ChatService.Limits;
using Yac.ChatService.Membership;
using Yac.ChatService.Messages;
using Yac.ChatService.Users;
using Yac.Contracts;
using Yac.ServiceDefaults.RateLimiting;
using Yac.Shared;

namespace Microsoft.Extensions.Hosting;

internal static class ApplicationServiceExtensions
{
    /// <summary>Users remembered as existing (see <see cref="UserDirectory"/>); each entry counts 1.</summary>
    private const int KnownUsersLimit = 100_000;

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDbContext<ChatDbContext>("chatdb", configureDbContextOptions: options => options.UseSnakeCaseNamingConvention());
        builder.Services.AddDatabaseMigrator<ChatDbContext>();
        // No per-command spans: every request's revocation lookup would add one (and cost a profiling
        // session per request); the publisher's own span carries each event's trace across Redis.
        builder.AddRedisClient("redis", settings => settings.DisableTracing = true);

        builder.AddDefaultAuthentication();
        // The gateway's send batch has its own cap (SendBatchApi.MaxBodyBytes).
        builder.LimitRequestBodies(RequestBodyCaps.Chat);
        builder.Services.AddValidation();
        // Per-user budgets shared by every replica (Redis); over budget is 429 with Retry-After.
        builder.AddRedisRateLimits(ChatRateLimits.Policies);
        // Validation errors are keyed by C# property names; the contract's field names are camelCase.
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.DictionaryKeyPolicy = JsonNamingPolicy.CamelCase;
            // Batched sends and their results (the gateway's hot path): source-generated, no reflection.
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, ContractsJsonContext.Default);
        });
        builder.Services.AddOpenApi();

        // The change publisher's own connections (its leader lock lives on one of them for as long as it leads).
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(
            builder.Configuration.GetConnectionString("chatdb") ?? throw new InvalidOperationException("ConnectionStrings:chatdb is not set.")));
        builder.Services.AddOptions<ChangePublisherOptions>().BindConfiguration(ChangePublisherOptions.Section);
        builder.Services.AddSingleton<ChangePublisher>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ChangePublisher>());
        builder.Services.AddSingleton<EventPublisher>();
        builder.Services.AddHostedService(services => services.GetRequiredService<EventPublisher>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<MessageCommitter>();
        builder.Services.AddHostedService(services => services.GetRequiredService<MessageCommitter>());
        builder.Services.AddSingleton<MessageStore>();
        builder.Services.AddScoped<MembershipStore>();
        builder.Services.AddScoped<ChatSettingsStore>();
        builder.Services.AddScoped<MessageLifecycleStore>();

        builder.Services.AddMemoryCache(options => options.SizeLimit = KnownUsersLimit);
        // Identity is found through service discovery; the caller's token goes with each lookup.
        // Its own short budget instead of the defaults' (see UserDirectory).
        builder.Services.AddHttpClient<UserDirectory>(http => http.BaseAddress = new Uri("http://identity"))
            .WithShortResilience(UserDirectory.AttemptTimeout, UserDirectory.TotalTimeout);
        return builder;
    }
}
