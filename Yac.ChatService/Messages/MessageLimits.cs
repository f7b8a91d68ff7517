namespace Yac.ChatService.Messages;

/// <summary>The contract's limits on messages and history pages.</summary>
public static class MessageLimits
{
    public const int TextMaxLength = 4000;
    public const int ClientMsgIdMaxLength = 64;
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 200;
}
