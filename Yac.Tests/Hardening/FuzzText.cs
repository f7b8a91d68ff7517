using System.Globalization;
using System.Text;

namespace Yac.Tests.Hardening;

/// <summary>
/// Random JSON for the fuzzers, written by hand so that it can hold what a serializer never writes:
/// lone surrogates as <c>\uD800</c> escapes, control characters, bad escapes, duplicate keys, huge
/// numbers, deep nesting, truncation. Everything it returns is valid UTF-8 (a WebSocket text frame
/// must be; invalid UTF-8 is refused by the WebSocket layer itself with 1007, before YAC sees it).
/// </summary>
internal sealed class FuzzText(Random random)
{
    private static readonly string[] s_pieces =
    [
        "a", "Z", "0", " ", "hello", "\\n", "\\r", "\\t", "\\\"", "\\\\", "\\/", "\\u0000", "\\u0001", "\\u001b", "\\u007f",
        "\\ud800", "\\udbff", "\\udc00", "\\udfff", "\\ud83d\\ude00", "\\ud83d", "\\ude00x", "😀", "👍🏽", "👨‍👩‍👧", "日本語", "עברית",
        "\u200f", "\u200d", "\ufeff", "\uffff", "\u0301", "e\u0301", "\u2028", "\u00a0", "%00", "<script>", "'; DROP TABLE messages; --",
        "${jndi:x}", "{{7*7}}", "../../etc/passwd", "\\u00e9", "\\uFFFE", "\\uD800\\uD800", "\\uDC00\\uD800",
    ];

    private static readonly string[] s_badEscapes = ["\\x41", "\\u12", "\\u", "\\", "\\q", "\\uZZZZ", "\\U0001F600"];

    public int Next(int maxExclusive) => random.Next(maxExclusive);

    public byte[] Bytes(int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    public bool Chance(double probability) => random.NextDouble() < probability;

    public T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    /// <summary>The inside of a JSON string (escapes included), about <paramref name="length"/> pieces long; rarely with a bad escape.</summary>
    public string StringContent(int length)
    {
        var text = new StringBuilder();
        for (var i = 0; i < length; i++)
        {
            text.Append(Chance(0.002) ? Pick(s_badEscapes) : Pick(s_pieces));
        }

        return text.ToString();
    }

    public string JsonString(int maxLength = 40) => $"\"{StringContent(random.Next(maxLength + 1))}\"";

    public string Number() => Next(12) switch
    {
        0 => "0",
        1 => "-1",
        2 => "1e400",
        3 => "-0",
        4 => "1.5e-300",
        5 => "99999999999999999999999999",
        6 => long.MaxValue.ToString(CultureInfo.InvariantCulture),
        7 => long.MinValue.ToString(CultureInfo.InvariantCulture),
        8 => "3.14",
        9 => "01",
        10 => "NaN",
        _ => random.NextInt64(-1_000_000, 1_000_000).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Any JSON value, nested up to <paramref name="depth"/>.</summary>
    public string Value(int depth) => (depth <= 0 ? Next(5) : Next(7)) switch
    {
        0 => "null",
        1 => Chance(0.5) ? "true" : "false",
        2 => Number(),
        3 or 4 => JsonString(),
        5 => "[" + string.Join(",", Enumerable.Range(0, Next(5)).Select(_ => Value(depth - 1))) + "]",
        _ => "{" + string.Join(",", Enumerable.Range(0, Next(5)).Select(_ => $"{JsonString(8)}:{Value(depth - 1)}")) + "}",
    };

    /// <summary>Arrays or objects nested <paramref name="depth"/> deep (the parsers' depth limits).</summary>
    public static string Nested(int depth, bool objects) => objects
        ? string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth)
        : new string('[', depth) + new string(']', depth);

    /// <summary>Not JSON at all, or JSON cut short.</summary>
    public string Garbage() => Next(8) switch
    {
        0 => "",
        1 => "{",
        2 => "{\"type\":",
        3 => "{\"type\":\"send\",\"text\":\"unterminated",
        4 => "not json " + StringContent(10),
        5 => "{'type':'ping'}",
        6 => "{\"type\":\"ping\"} trailing",
        _ => new string((char)('!' + Next(90)), 1 + Next(200)),
    };

    /// <summary><paramref name="text"/> as UTF-8, or null when it is longer than <paramref name="maxBytes"/>.</summary>
    public static byte[]? Utf8(string text, int maxBytes)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return bytes.Length <= maxBytes ? bytes : null;
    }
}
