using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace Yac.Tests.Infrastructure;

/// <summary>
/// The whole app with small per-user budgets and socket caps, so that tests reach each limit in a
/// few requests, through the real gateway, ChatService and Redis (the defaults are far above what
/// a test sends). Bad frames are tolerated longer than by default, so the frame fuzzer runs many
/// frames on one socket before a 1008.
/// </summary>
public sealed class LowLimitsAppFixture : YacAppFixture
{
    public const int Sends = 200;
    public const int SmallBudget = 5;
    public const int SocketsPerUser = 4;
    public const int SocketsPerDevice = 3;
    public const int ResumesPerMinute = 3;
    public const int BadFrameLimit = 1000;

    protected override void ConfigureApp(IDistributedApplicationTestingBuilder builder)
    {
        var chat = builder.CreateResourceBuilder<ProjectResource>("chat");
        SetLimit(chat, "sends", Sends);
        foreach (var policy in new[] { "chat-creation", "member-changes", "reads" })
        {
            SetLimit(chat, policy, SmallBudget);
        }

        builder.CreateResourceBuilder<ProjectResource>("gateway")
            .WithEnvironment("Yac__Gateway__MaxSocketsPerUser", SocketsPerUser.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment("Yac__Gateway__MaxSocketsPerDevice", SocketsPerDevice.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment("Yac__Gateway__ResumesPerMinute", ResumesPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment("Yac__Gateway__BadFrameLimit", BadFrameLimit.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static void SetLimit(IResourceBuilder<ProjectResource> service, string policy, int permits) => service
        .WithEnvironment($"Yac__RateLimits__{policy}__PermitLimit", permits.ToString(System.Globalization.CultureInfo.InvariantCulture))
        .WithEnvironment($"Yac__RateLimits__{policy}__Window", TimeSpan.FromMinutes(1).ToString("c"));
}

[CollectionDefinition(Name)]
public sealed class LowLimitsAppCollection : ICollectionFixture<LowLimitsAppFixture>
{
    public const string Name = "YAC app with small per-user limits";
}
