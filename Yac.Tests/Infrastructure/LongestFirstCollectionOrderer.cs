using Xunit.Abstractions;
using Yac.Tests.Client;
using Yac.Tests.Telemetry;

[assembly: TestCollectionOrderer("Yac.Tests.Infrastructure.LongestFirstCollectionOrderer", "Yac.Tests")]

namespace Yac.Tests.Infrastructure;

/// <summary>
/// Collections run two at a time (xunit.runner.json), each on an app of its own. Started longest
/// first, the shared app's many tests run beside all the short destructive collections one after
/// another, so the suite takes about as long as its longest collection instead of the sum of all.
/// The weights are rough seconds on a 2-core machine, app start included; a collection not listed
/// (a test class without an app) is short and runs last.
/// </summary>
public sealed class LongestFirstCollectionOrderer : ITestCollectionOrderer
{
    private static readonly Dictionary<string, int> s_weights = new(StringComparer.Ordinal)
    {
        [YacAppCollection.Name] = 400,
        [YacServicesAppCollection.Name] = 300,
        [FaultAppCollection.Name] = 250,
        [ReplicaFailureAppCollection.Name] = 150,
        [ShortLivedTokensAppCollection.Name] = 150,
        [ObservedAppCollection.Name] = 90,
        [LowLimitsAppCollection.Name] = 80,
        [ClientReplicaFailureCollection.Name] = 70,
        [WebClientReplicaFailureCollection.Name] = 70,
        [ReplicatedIdentityAppCollection.Name] = 70,
        [RestartedServicesAppCollection.Name] = 60,
        [YacGarnetAppCollection.Name] = 55,
    };

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections
            .OrderByDescending(collection => s_weights.GetValueOrDefault(collection.DisplayName))
            .ThenBy(collection => collection.DisplayName, StringComparer.Ordinal);
}
