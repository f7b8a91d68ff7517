using System.Text;
using Yac.Gateway.Protocol;

namespace Yac.UnitTests.Gateway;

public sealed class ClientFrameParserTests
{
    private const string ChatId = "0198c1a2-0000-7000-8000-000000000001";

    [Theory]
    [InlineData("""{"type":"\ud800"}""")]
    [InlineData("""{"type":"ping","\udc00":1}""")]
    [InlineData("""{"type":"resume","chats":{"\ud800":1}}""")]
    [InlineData("""{"type":"auth","accessToken":"\ud800"}""")]
    [InlineData("""{"type":"read","chatId":"\ud800","seq":1}""")]
    public void LoneSurrogatesAnywhereAreABadFrameNotAnException(string json)
    {
        var frame = ClientFrameParser.Parse(Encoding.UTF8.GetBytes(json), out var error);

        if (frame is null)
        {
            Assert.NotNull(error);
        }
        else
        {
            // Only where the string is never read (an unknown property) may the frame still be good.
            Assert.IsType<PingFrame>(frame);
        }
    }

    [Theory]
    [InlineData("""{"type":"ping","id":"\ude00x"}""")]
    [InlineData("""{"type":"ping","id":["ok",{"\ud800":1}]}""")]
    [InlineData("""{"type":"ping","id":{"a":"\udbff"}}""")]
    public void APingWhoseIdHoldsALoneSurrogateIsABadFrameSoThePongNeverEchoesUnreadableJson(string json)
    {
        var frame = ClientFrameParser.Parse(Encoding.UTF8.GetBytes(json), out var error);

        Assert.Null(frame);
        Assert.Contains("lone surrogate", error!.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":"ping","id":"\ud83d\ude00"}""", "\"\\ud83d\\ude00\"")]
    [InlineData("""{"type":"ping","id":{"n":[1,null,"x"]}}""", """{"n":[1,null,"x"]}""")]
    public void APingIdOfAnyShapeIsEchoedAsWritten(string json, string rawId)
    {
        var frame = Assert.IsType<PingFrame>(ClientFrameParser.Parse(Encoding.UTF8.GetBytes(json), out _));

        Assert.Equal(rawId, frame.RawId);
    }

    [Fact]
    public void ASendWithNulInItsTextIsRefusedWithItsClientMsgIdAsRef()
    {
        var frame = Parse($$"""{"type":"send","chatId":"{{ChatId}}","clientMsgId":"m1","text":"a\u0000b"}""", out var error);

        Assert.Null(frame);
        Assert.Equal("m1", error!.Reference);
        Assert.Contains("control", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""   """, "whitespace")]
    [InlineData("""a\ud800""", "Unicode")]
    [InlineData("""bell\u0007""", "control")]
    public void ASendWithBadTextIsRefused(string text, string expected)
    {
        var frame = Parse($$"""{"type":"send","chatId":"{{ChatId}}","clientMsgId":"m2","text":"{{text}}"}""", out var error);

        Assert.Null(frame);
        Assert.Equal("m2", error!.Reference);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""a\u0000""")]
    [InlineData("""\ud800""")]
    [InlineData("")]
    public void ASendWithABadClientMsgIdIsRefusedWithoutRef(string clientMsgId)
    {
        var frame = Parse($$"""{"type":"send","chatId":"{{ChatId}}","clientMsgId":"{{clientMsgId}}","text":"hi"}""", out var error);

        Assert.Null(frame);
        Assert.Null(error!.Reference);
    }

    [Fact]
    public void AGoodSendKeepsLineBreaksAndCountsCharacters()
    {
        var emoji = string.Concat(Enumerable.Repeat("\\ud83d\\ude00", 4000));

        var frame = Parse($$"""{"type":"send","chatId":"{{ChatId}}","clientMsgId":"m3","text":"{{emoji}}"}""", out var error);
        var multiline = Parse($$"""{"type":"send","chatId":"{{ChatId}}","clientMsgId":"m4","text":"one\ntwo"}""", out _);

        Assert.Null(error);
        Assert.Equal(8000, Assert.IsType<SendFrame>(frame).Text.Length);
        Assert.Equal("one\ntwo", Assert.IsType<SendFrame>(multiline).Text);
    }

    [Fact]
    public void AnUnknownTypeIsNamedWithoutSplittingASurrogatePair()
    {
        var type = new string('x', 31) + "\U0001F600";

        Assert.Null(Parse($$"""{"type":"{{type}}"}""", out var error));
        Assert.DoesNotContain('\ud83d', error!.Message);
    }

    private static ClientFrame? Parse(string json, out FrameError? error) => ClientFrameParser.Parse(Encoding.UTF8.GetBytes(json), out error);
}
