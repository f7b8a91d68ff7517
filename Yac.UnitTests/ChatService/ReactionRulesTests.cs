using Yac.ChatService.Messages;

namespace Yac.UnitTests.ChatService;

public sealed class ReactionRulesTests
{
    [Theory]
    [InlineData("👍")]
    [InlineData("+1")]
    [InlineData("👨‍👩‍👧‍👦")] // a family: four emoji joined by zero-width joiners
    [InlineData("🇫🇷")]
    [InlineData("❤️")] // with a variation selector
    [InlineData("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")] // 32
    [InlineData("👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍")] // 32 characters, 64 UTF-16 code units
    public void AnEmojiOfOneToThirtyTwoCharactersWithoutWhitespaceIsAccepted(string emoji)
        => Assert.Null(ReactionRules.Check(emoji));

    [Theory]
    [InlineData("")]
    [InlineData("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")] // 33
    [InlineData("a b")]
    [InlineData(" ")]
    [InlineData("👍\n")]
    [InlineData("\t")]
    [InlineData("\u00a0")] // no-break space
    [InlineData("\u2003")] // em space
    [InlineData("\0")]
    [InlineData("\u0007")]
    public void AnEmptyTooLongOrWhitespaceOrControlEmojiIsRefused(string emoji)
        => Assert.NotNull(ReactionRules.Check(emoji));

    [Fact]
    public void ALoneSurrogateIsRefused()
    {
        Assert.NotNull(ReactionRules.Check("\ud83d"));
        Assert.NotNull(ReactionRules.Check("a\ude00"));
    }
}
