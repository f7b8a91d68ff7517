using System.Text;
using Yac.Gateway.Protocol;

namespace Yac.UnitTests.Gateway;

public sealed class SendFrameReplyTests
{
    private const string ChatId = "0195f0a0-0000-7000-8000-000000000001";

    private static ClientFrame? Parse(string replyToSeq, out FrameError? error)
        => ClientFrameParser.Parse(
            Encoding.UTF8.GetBytes($$"""{"type":"send","chatId":"{{ChatId}}","clientMsgId":"m1","text":"hi"{{replyToSeq}}}"""), out error);

    [Theory]
    [InlineData("", null)]
    [InlineData(",\"replyToSeq\":null", null)]
    [InlineData(",\"replyToSeq\":1", 1L)]
    [InlineData(",\"replyToSeq\":9007199254740993", 9007199254740993L)]
    public void ASendCarriesItsOptionalReplyToSeq(string replyToSeq, long? expected)
    {
        var frame = Assert.IsType<SendFrame>(Parse(replyToSeq, out var error));
        Assert.Null(error);
        Assert.Equal(expected, frame.ReplyToSeq);
    }

    [Theory]
    [InlineData(",\"replyToSeq\":0")]
    [InlineData(",\"replyToSeq\":-3")]
    [InlineData(",\"replyToSeq\":1.5")]
    [InlineData(",\"replyToSeq\":\"1\"")]
    [InlineData(",\"replyToSeq\":[1]")]
    [InlineData(",\"replyToSeq\":true")]
    public void AReplyToSeqThatIsNotAPositiveIntegerIsABadFrameAnsweredWithTheClientMsgId(string replyToSeq)
    {
        Assert.Null(Parse(replyToSeq, out var error));
        Assert.Equal("m1", error?.Reference);
        Assert.Contains("replyToSeq", error?.Message, StringComparison.Ordinal);
    }
}
