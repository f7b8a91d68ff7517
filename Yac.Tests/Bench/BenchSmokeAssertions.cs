using Yac.Bench.Load;
using Yac.Bench.Reporting;

namespace Yac.Tests.Bench;

/// <summary>What a smoke run must show, whichever system it ran against; never a timing.</summary>
internal static class BenchSmokeAssertions
{
    public static void AssertCompleteAndSane(StepResult step, SystemReport report, BenchSettings settings, int servers)
    {
        Assert.Equal(2, servers);
        Assert.Empty(step.Errors);
        Assert.True(step.Scheduled > 0, "the smoke step scheduled messages");
        Assert.Equal(step.Scheduled, step.Sent);
        Assert.Equal(step.Sent, step.Acked);
        Assert.Equal(step.Acked * settings.MembersPerChat, step.ExpectedDeliveries);
        Assert.Equal(step.ExpectedDeliveries, step.Delivered);
        Assert.True(step.Complete);
        Assert.Equal(step.Delivered, step.DeliveryLatency.Count);
        // Half of every chat's members sit on the other instance: the backplane carried those.
        Assert.Equal(step.Delivered / 2, step.CrossInstanceLatency.Count);
        Assert.Equal(step.Acked, step.AckLatency.Count);
        Assert.True(step.DeliveryLatency.P50 <= step.DeliveryLatency.P99 && step.DeliveryLatency.P99 <= step.DeliveryLatency.Max);

        Assert.Equal(settings.IdleSockets.Order(), report.IdleMemory.Select(idle => idle.Sockets));
        Assert.All(report.IdleMemory, idle => Assert.Equal(idle.Sockets, idle.OpenSockets));
    }
}
