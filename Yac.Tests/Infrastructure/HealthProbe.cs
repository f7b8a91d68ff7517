using System.Net;

namespace Yac.Tests.Infrastructure;

/// <summary>Waits for a service's <c>/health</c> to answer what an orchestrator would wait for.</summary>
public static class HealthProbe
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Polls <c>/health</c> on <paramref name="client"/>'s base address until it answers <paramref name="expected"/>.</summary>
    public static async Task WaitForHealthAsync(this HttpClient client, HttpStatusCode expected, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var limitTime = timeout ?? DefaultTimeout;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(limitTime);
        HttpStatusCode? last = null;
        try
        {
            while (true)
            {
                using (var response = await client.GetAsync("/health", limit.Token))
                {
                    last = response.StatusCode;
                }

                if (last == expected)
                {
                    return;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250), limit.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Assert.Fail($"{client.BaseAddress} /health stayed {last} instead of {expected} for {limitTime.TotalSeconds} s");
        }
    }
}
