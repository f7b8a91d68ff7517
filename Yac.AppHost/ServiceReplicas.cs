namespace Yac.AppHost;

/// <summary>
/// How many processes run each service: <c>Yac:Gateway:Replicas</c>, <c>Yac:Chat:Replicas</c>,
/// <c>Yac:Identity:Replicas</c>. Each service's replicas share one address (the orchestrator's
/// proxy, which balances per TCP connection), so callers need no change.
/// </summary>
internal static class ServiceReplicas
{
    public const int DefaultGateway = 2;

    /// <summary>One until ChatService publishes each chat's events in rev order whichever replica committed them.</summary>
    public const int DefaultChat = 1;

    /// <summary>
    /// One until the login throttle is shared between replicas (it is per process: two replicas let
    /// twice the failures through) and the tests' resource commands address replicas. Identity itself
    /// runs at 2+ (signing keys shared through identitydb; ReplicatedIdentityTests).
    /// </summary>
    public const int DefaultIdentity = 1;

    public static int Chat(IConfiguration configuration) => Read(configuration, "Chat", DefaultChat);

    public static int Identity(IConfiguration configuration) => Read(configuration, "Identity", DefaultIdentity);

    public static int Read(IConfiguration configuration, string service, int defaultReplicas)
    {
        var key = $"Yac:{service}:Replicas";
        var replicas = configuration.GetValue(key, defaultReplicas);
        return replicas >= 1
            ? replicas
            : throw new InvalidOperationException($"{key} must be at least 1; it is {replicas}.");
    }
}
