using System.Diagnostics;
using Yac.ChatService.Changes;

namespace Yac.UnitTests.ChatService;

public sealed class ChangeTraceTests
{
    [Fact]
    public void ACauseSurvivesTheLogRoundTrip()
    {
        var cause = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);

        var kept = ChangeTrace.Format(cause);

        Assert.Equal($"00-{cause.TraceId.ToHexString()}-{cause.SpanId.ToHexString()}-01", kept);
        Assert.Equal(ChangeTrace.MaxLength, kept!.Length);
        var read = ChangeTrace.Parse(kept);
        Assert.Equal((cause.TraceId, cause.SpanId, cause.TraceFlags), (read.TraceId, read.SpanId, read.TraceFlags));
    }

    [Fact]
    public void AnUnsampledCauseKeepsItsFlags()
    {
        var cause = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None);

        Assert.EndsWith("-00", ChangeTrace.Format(cause));
        Assert.Equal(ActivityTraceFlags.None, ChangeTrace.Parse(ChangeTrace.Format(cause)).TraceFlags);
    }

    [Fact]
    public void NoCauseIsKeptAsNothing() => Assert.Null(ChangeTrace.Format(default));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("00-not-a-trace")]
    [InlineData("00-00000000000000000000000000000000-0000000000000000-01")]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra")]
    public void WhatIsNotATraceParentReadsAsNoCause(string? kept) => Assert.Equal(default, ChangeTrace.Parse(kept));
}
