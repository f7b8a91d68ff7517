using System.Text;

namespace Yac.ChatService.Messages;

/// <summary>The contract's rules for reactions (api-v1.md, "Message lifecycle").</summary>
public static class ReactionRules
{
    /// <summary>An emoji is 1-32 characters: Unicode code points, as every length in the contract (<c>TextRules</c>) and <c>varchar(32)</c> count them.</summary>
    public const int EmojiMaxLength = 32;

    /// <summary>Distinct emoji one message may carry; the 21st is refused.</summary>
    public const int MaxDistinctEmoji = 20;

    /// <summary>How many of an emoji's users a message object lists (its count says how many there are).</summary>
    public const int ListedUsers = 20;

    /// <summary>
    /// Null when <paramref name="emoji"/> (already URL-decoded) may be a reaction, else why not: 1-32
    /// characters, well-formed UTF-16, no whitespace and no control character. Anything else is allowed
    /// (the joiners and selectors of composed emoji included): clients decide what they offer.
    /// </summary>
    public static string? Check(string emoji)
    {
        var rest = emoji.AsSpan();
        var characters = 0;
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out var rune, out var used) != System.Buffers.OperationStatus.Done)
            {
                return "An emoji must be well-formed text.";
            }

            if (Rune.IsWhiteSpace(rune) || Rune.IsControl(rune))
            {
                return "An emoji holds no whitespace or control characters.";
            }

            if (++characters > EmojiMaxLength)
            {
                break;
            }

            rest = rest[used..];
        }

        return characters is 0 or > EmojiMaxLength ? $"An emoji is 1-{EmojiMaxLength} characters." : null;
    }
}
