using System.ComponentModel.DataAnnotations;
using System.Text;

namespace Yac.ServiceDefaults.Validation;

/// <summary>What is wrong with a piece of text, if anything.</summary>
public enum TextProblem
{
    None,
    Blank,
    ControlCharacter,
    LoneSurrogate,
    TooShort,
    TooLong,
}

/// <summary>
/// The contract's rules for strings clients write, the same in every service (and on the socket):
/// <list type="bullet">
/// <item><b>Text</b> people read (message text, chat titles, display and device names): not empty
/// after trimming, no control character other than <c>\n</c>, <c>\r</c> and <c>\t</c> (NUL
/// included), no lone surrogate (UTF-16 that is not Unicode, which PostgreSQL and UTF-8 cannot
/// hold).</item>
/// <item><b>Identifiers</b> clients choose (<c>clientMsgId</c>): no control character at all and no
/// lone surrogate; spaces are allowed.</item>
/// </list>
/// Lengths count characters as the contract and PostgreSQL's <c>varchar(n)</c> do: Unicode code
/// points, so an emoji (two UTF-16 code units) is one character.
/// </summary>
public static class TextRules
{
    /// <summary>The problem with <paramref name="value"/> as text people read, or <see cref="TextProblem.None"/>.</summary>
    public static TextProblem CheckText(string value, int minLength, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return TextProblem.Blank;
        }

        return Check(value, minLength, maxLength, allowLineBreaksAndTabs: true);
    }

    /// <summary>The problem with <paramref name="value"/> as a client-chosen identifier, or <see cref="TextProblem.None"/>.</summary>
    public static TextProblem CheckIdentifier(string value, int minLength, int maxLength)
        => Check(value, minLength, maxLength, allowLineBreaksAndTabs: false);

    /// <summary>Unicode code points in <paramref name="value"/> (a lone surrogate counts as one).</summary>
    public static int CharacterCount(string value)
    {
        var count = 0;
        for (var index = 0; index < value.Length; index++)
        {
            if (char.IsHighSurrogate(value[index]) && index + 1 < value.Length && char.IsLowSurrogate(value[index + 1]))
            {
                index++;
            }

            count++;
        }

        return count;
    }

    /// <summary>A message for a client, naming the field as the contract does.</summary>
    public static string Describe(TextProblem problem, string field, int minLength, int maxLength) => problem switch
    {
        TextProblem.Blank => $"'{field}' must not be empty or only whitespace.",
        TextProblem.ControlCharacter => $"'{field}' must not contain control characters (line breaks and tabs are allowed in text).",
        TextProblem.LoneSurrogate => $"'{field}' must be valid Unicode (it holds a lone surrogate).",
        TextProblem.TooShort or TextProblem.TooLong => $"'{field}' must be {minLength}-{maxLength} characters.",
        _ => "",
    };

    private static TextProblem Check(string value, int minLength, int maxLength, bool allowLineBreaksAndTabs)
    {
        var count = 0;
        for (var index = 0; index < value.Length; count++)
        {
            if (!Rune.TryGetRuneAt(value, index, out var scalar))
            {
                return TextProblem.LoneSurrogate;
            }

            if (Rune.IsControl(scalar) && !(allowLineBreaksAndTabs && scalar.Value is '\n' or '\r' or '\t'))
            {
                return TextProblem.ControlCharacter;
            }

            index += scalar.Utf16SequenceLength;
        }

        return count < minLength ? TextProblem.TooShort : count > maxLength ? TextProblem.TooLong : TextProblem.None;
    }
}

/// <summary>
/// Data-annotation form of <see cref="TextRules.CheckText"/> (or, with <see cref="Identifier"/>,
/// <see cref="TextRules.CheckIdentifier"/>) for request records validated by ASP.NET Core's
/// <c>AddValidation()</c> or <see cref="Validator"/>. Null passes: combine with
/// <see cref="RequiredAttribute"/> where the field is required.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter | AttributeTargets.Field)]
public sealed class ClientTextAttribute(int minLength, int maxLength) : ValidationAttribute
{
    public int MinLength { get; } = minLength;

    public int MaxLength { get; } = maxLength;

    /// <summary>Checks an identifier (no control characters at all, blanks allowed) instead of text.</summary>
    public bool Identifier { get; init; }

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        if (value is null)
        {
            return ValidationResult.Success;
        }

        if (value is not string text)
        {
            return new ValidationResult("Must be a string.");
        }

        var problem = Identifier ? TextRules.CheckIdentifier(text, MinLength, MaxLength) : TextRules.CheckText(text, MinLength, MaxLength);
        if (problem == TextProblem.None)
        {
            return ValidationResult.Success;
        }

        var field = JsonNameOf(validationContext.MemberName ?? validationContext.DisplayName);
        return new ValidationResult(TextRules.Describe(problem, field, MinLength, MaxLength), validationContext.MemberName is { } member ? [member] : null);
    }

    private static string JsonNameOf(string name) => name.Length == 0 ? name : char.ToLowerInvariant(name[0]) + name[1..];
}
