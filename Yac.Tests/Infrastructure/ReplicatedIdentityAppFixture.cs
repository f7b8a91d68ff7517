using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace Yac.Tests.Infrastructure;

/// <summary>
/// The whole app with <see cref="IdentityReplicas"/> Identity replicas on a fresh database, for
/// tests that need to reach each replica on its own address.
/// </summary>
public sealed class ReplicatedIdentityAppFixture : YacAppFixture
{
    public const int IdentityReplicas = 2;

    public Task<IReadOnlyList<Uri>> GetIdentityReplicaUrlsAsync(CancellationToken cancellationToken) =>
        GetReplicaUrlsAsync("identity", IdentityReplicas, cancellationToken);

    protected override void ConfigureApp(IDistributedApplicationTestingBuilder builder)
    {
        builder.CreateResourceBuilder<ProjectResource>("identity").WithReplicas(IdentityReplicas);
    }
}

[CollectionDefinition(Name)]
public sealed class ReplicatedIdentityAppCollection : ICollectionFixture<ReplicatedIdentityAppFixture>
{
    public const string Name = "YAC app with replicated Identity";
}
