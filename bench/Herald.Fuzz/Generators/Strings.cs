using System.Text;

namespace Herald.Fuzz.Generators;

/// <summary>Strings that break parsers: empty, huge, unicode, control characters, lone surrogates, near-miss names.</summary>
public static class Strings
{
    private const string Lower = "abcdefghijklmnopqrstuvwxyz";
    private const string Digits = "0123456789";
    private const string Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    /// <summary>Pieces of text chosen because they are interesting to a parser or a router.</summary>
    public static readonly string[] Nasty =
    [
        "", " ", "\t", "\0", "\u0001", "\u001f", "\u007f", "\u0085", "\u00a0", "\u2028", "\u2029", "\ufeff", "\ufffd", "\uffff",
        "\ud800", "\udfff", "\ud83d\ude00", "\ud83d", "e\u0301", "\u202e", "ｅｖｅｎｔｓ", "İ", "ß", "К", "中文", "👩‍👩‍👧",
        "..", ".", "/", "\\", "%", "%2F", "%2f", "%00", "%2E%2E", "%ff", "%", "?", "#", "&", "=", "+", ";", ",", "'", "\"",
        "<script>", "${x}", "{{x}}", "null", "true", "NaN", "Infinity", "-0", "1e400", "\r\n", "\n", "//", "/*", "*/",
        "events", "_events", "EVENTS", "master", "a..b", "a.", ".a", "-a", "a-", "_a", "0", "00",
    ];

    public static char Pick(Random random, string alphabet) => alphabet[random.Next(alphabet.Length)];

    /// <summary>A name made of <paramref name="first"/> then <paramref name="rest"/> characters, 1 to <paramref name="maxLength"/> long.</summary>
    public static string Name(Random random, string first, string rest, int maxLength)
    {
        var length = 1 + random.Next(Math.Min(maxLength, random.Next(2) == 0 ? 12 : maxLength));
        var builder = new StringBuilder(length);
        builder.Append(Pick(random, first));
        for (var i = 1; i < length; i++)
        {
            builder.Append(Pick(random, rest));
        }

        return builder.ToString();
    }

    public static string AppName(Random random) => Name(random, Lower, Lower + Digits + "-_", 63);

    public static string Tenant(Random random) => Name(random, Lower + Digits, Lower + Digits + "-", 63);

    public static string Key(Random random) => Name(random, Lower + Upper + Digits, Lower + Upper + Digits + "._-", 128);

    public static string HandlerId(Random random, int maxLength = 128) => Name(random, Lower + Upper, Lower + Upper + Digits + "_-", maxLength);

    /// <summary><paramref name="value"/> with every lone surrogate replaced by U+FFFD, so it is well-formed UTF-16.</summary>
    public static string WellFormed(string value)
    {
        var chars = value.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(chars[i]))
            {
                chars[i] = '\ufffd';
            }
        }

        return new string(chars);
    }

    /// <summary>Any string: mostly short and odd, sometimes huge; may hold control characters and lone surrogates.</summary>
    public static string Any(Random random, int maxLength = 4096)
    {
        switch (random.Next(10))
        {
            case 0:
                return Nasty[random.Next(Nasty.Length)];
            case 1:
                return new string(Pick(random, "a/.%\ud800 \0"), random.Next(maxLength + 1));
            case 2:
                return Unicode(random, random.Next(64));
            case 3:
                return Mutate(random, Key(random));
            default:
                var builder = new StringBuilder();
                var pieces = 1 + random.Next(4);
                for (var i = 0; i < pieces; i++)
                {
                    builder.Append(random.Next(3) == 0 ? Nasty[random.Next(Nasty.Length)] : Name(random, Lower, Lower + Digits + "-._", 20));
                }

                return builder.Length > maxLength ? builder.ToString(0, maxLength) : builder.ToString();
        }
    }

    /// <summary>Random UTF-16 code units: any BMP character, surrogate pairs, and lone surrogates.</summary>
    public static string Unicode(Random random, int length)
    {
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            builder.Append(random.Next(6) switch
            {
                0 => (char)random.Next(0x20),
                1 => (char)random.Next(0xd800, 0xe000),
                2 => (char)random.Next(0x80, 0x800),
                _ => (char)random.Next(0x10000),
            });
        }

        return builder.ToString();
    }

    /// <summary>A near miss of <paramref name="value"/>: one character changed, dropped, doubled, re-cased, or a nasty piece inserted.</summary>
    public static string Mutate(Random random, string value)
    {
        if (value.Length == 0)
        {
            return Nasty[random.Next(Nasty.Length)];
        }

        var at = random.Next(value.Length);
        return random.Next(6) switch
        {
            0 => value.Remove(at, 1),
            1 => value.Insert(at, value[at].ToString()),
            2 => value.ToUpperInvariant(),
            3 => value.Insert(at, Nasty[random.Next(Nasty.Length)]),
            4 => value + new string('x', 1 + random.Next(300)),
            _ => value[..at] + (char)random.Next(0x10000) + value[(at + 1)..],
        };
    }
}
