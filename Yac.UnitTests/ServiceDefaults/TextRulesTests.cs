using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Yac.ServiceDefaults.Validation;

namespace Yac.UnitTests.ServiceDefaults;

public sealed class TextRulesTests
{
    [Theory]
    [InlineData("hello")]
    [InlineData("two\nlines\r\nand\ta tab")]
    [InlineData("  padded  ")]
    [InlineData("emoji \U0001F600 and accents é")]
    public void TextPeopleWriteIsAccepted(string text)
        => Assert.Equal(TextProblem.None, TextRules.CheckText(text, 1, 4000));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\n\t\r")]
    [InlineData("\u00a0\u2003")]
    public void TextThatIsEmptyAfterTrimmingIsBlank(string text)
        => Assert.Equal(TextProblem.Blank, TextRules.CheckText(text, 1, 4000));

    [Theory]
    [InlineData("a\u0000b")]
    [InlineData("bell\u0007")]
    [InlineData("escape\u001b[31m")]
    [InlineData("delete\u007f")]
    [InlineData("c1\u0085")]
    public void ControlCharactersOtherThanLineBreaksAndTabsAreRefused(string text)
        => Assert.Equal(TextProblem.ControlCharacter, TextRules.CheckText(text, 1, 4000));

    [Fact]
    public void LoneSurrogatesAreRefused()
    {
        // Not theory data: xunit's serialization of test cases would replace lone surrogates with U+FFFD.
        string[] texts = ["lone high \ud800 here", "lone low \udc00", "reversed \udc00\ud800", "ends high \ud83d"];

        Assert.All(texts, text => Assert.Equal(TextProblem.LoneSurrogate, TextRules.CheckText(text, 1, 4000)));
    }

    [Fact]
    public void LengthCountsCharactersNotUtf16CodeUnits()
    {
        var emoji = string.Concat(Enumerable.Repeat("\U0001F600", 4000));

        Assert.Equal(8000, emoji.Length);
        Assert.Equal(4000, TextRules.CharacterCount(emoji));
        Assert.Equal(TextProblem.None, TextRules.CheckText(emoji, 1, 4000));
        Assert.Equal(TextProblem.TooLong, TextRules.CheckText(emoji + "x", 1, 4000));
        Assert.Equal(TextProblem.TooLong, TextRules.CheckText(new string('x', 4001), 1, 4000));
    }

    [Fact]
    public void IdentifiersAllowSpacesButNoControlCharactersAtAll()
    {
        Assert.Equal(TextProblem.None, TextRules.CheckIdentifier("msg 1", 1, 64));
        Assert.Equal(TextProblem.None, TextRules.CheckIdentifier(" ", 1, 64));
        Assert.Equal(TextProblem.ControlCharacter, TextRules.CheckIdentifier("a\nb", 1, 64));
        Assert.Equal(TextProblem.ControlCharacter, TextRules.CheckIdentifier("a\u0000", 1, 64));
        Assert.Equal(TextProblem.LoneSurrogate, TextRules.CheckIdentifier("\ud800", 1, 64));
        Assert.Equal(TextProblem.TooShort, TextRules.CheckIdentifier("", 1, 64));
        Assert.Equal(TextProblem.TooLong, TextRules.CheckIdentifier(new string('x', 65), 1, 64));
    }

    [Fact]
    public void TheAttributeNamesTheFieldInCamelCase()
    {
        var request = new Probe("a\u0000b");
        var results = new List<ValidationResult>();

        var valid = Validator.TryValidateObject(request, new ValidationContext(request), results, validateAllProperties: true);

        Assert.False(valid);
        var result = Assert.Single(results);
        Assert.Contains("'text'", result.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(["Text"], result.MemberNames);
    }

    [Fact]
    public void TheAttributeLetsNullThrough()
    {
        var request = new Probe(null);

        Assert.True(Validator.TryValidateObject(request, new ValidationContext(request), null, validateAllProperties: true));
    }

    [Theory]
    [InlineData("$.text", "text")]
    [InlineData("$.memberIds[2]", "memberIds")]
    [InlineData("$.chats.x", "chats")]
    [InlineData("$", null)]
    [InlineData("$['odd name']", null)]
    public void AnUnreadableFieldIsNamedByItsTopLevelProperty(string path, string? field)
        => Assert.Equal(field, BadRequestExceptionHandler.FieldOf(new JsonException("bad", path, null, null)));

    private sealed record Probe([property: ClientText(1, 10)] string? Text);
}
