namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// A client's own short budget instead of the defaults' (10 s an attempt, 30 s in all): for calls
/// that a caller waits on and that must fail within seconds when their service is down (ChatService's
/// user lookups in Identity, every service's fetch of Identity's keys). Retries and the circuit
/// breaker stay; the first retry comes after 100 ms.
/// </summary>
public static class ShortResilience
{
    public static IHttpClientBuilder WithShortResilience(this IHttpClientBuilder client, TimeSpan attemptTimeout, TimeSpan totalTimeout)
    {
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is experimental
        client.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        client.AddStandardResilienceHandler(resilience =>
        {
            resilience.AttemptTimeout.Timeout = attemptTimeout;
            resilience.TotalRequestTimeout.Timeout = totalTimeout;
            resilience.Retry.Delay = TimeSpan.FromMilliseconds(100);
        });
        return client;
    }
}
