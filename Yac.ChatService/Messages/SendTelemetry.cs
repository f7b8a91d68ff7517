using System.Diagnostics;
using Yac.ChatService.Events;

namespace Yac.ChatService.Messages;

/// <summary>The <c>chat.send</c> span of one send, the same whether it came alone or in a batch.</summary>
internal static class SendTelemetry
{
    /// <summary>Under the current activity, or under <paramref name="parent"/>: the sender's span when it is not the current one (a send of a batch).</summary>
    public static Activity? Start(Guid chatId, Guid senderId, ActivityContext parent = default)
    {
        var activity = ChatTelemetry.Source.StartActivity("chat.send", ActivityKind.Internal, parent);
        activity?.SetTag("yac.chat.id", chatId);
        activity?.SetTag("yac.user.id", senderId);
        return activity;
    }

    public static void Record(Activity? activity, SendOutcome outcome)
    {
        switch (outcome)
        {
            case SendOutcome.Stored(var message):
                activity?.SetTag("yac.message.seq", message.Seq);
                break;
            case SendOutcome.AlreadyStored(var original):
                activity?.SetTag("yac.message.seq", original.Seq);
                activity?.SetTag("yac.message.duplicate", true);
                break;
            default:
                activity?.SetStatus(ActivityStatusCode.Error, "refused");
                break;
        }
    }
}
