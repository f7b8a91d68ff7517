using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace Yac.Tests.Infrastructure;

/// <summary>
/// The whole app with access tokens that live <see cref="AccessTokenLifetime"/> and no clock skew
/// in any service, for tests that watch a token expire (401 on REST, 4002 on sockets).
/// </summary>
public sealed class ShortLivedTokensAppFixture : YacAppFixture
{
    public static readonly TimeSpan AccessTokenLifetime = TimeSpan.FromSeconds(10);

    protected override void ConfigureApp(IDistributedApplicationTestingBuilder builder)
    {
        builder.CreateResourceBuilder<ProjectResource>("identity")
            .WithEnvironment("Identity__AccessTokenLifetime", AccessTokenLifetime.ToString("c"));
        foreach (var service in ServiceNames)
        {
            builder.CreateResourceBuilder<ProjectResource>(service)
                .WithEnvironment("Yac__Authentication__ClockSkew", TimeSpan.Zero.ToString("c"));
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ShortLivedTokensAppCollection : ICollectionFixture<ShortLivedTokensAppFixture>
{
    public const string Name = "YAC app with short-lived access tokens";
}
