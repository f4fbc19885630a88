using System.Text;
using Herald.Fuzz.Generators;

namespace Herald.Fuzz.Json;

/// <summary>
/// Structure-aware mutations of JSON documents: on the tree (wrong types, out-of-range numbers, unknown and
/// duplicate fields, deep nesting, huge and odd strings) and on the text (truncation, flipped characters, invalid
/// UTF-8 decoded as a file reader would, lone surrogates, trailing garbage), plus plain random bytes.
/// </summary>
public static class JsonMutator
{
    /// <summary>Numbers at and past the edges of every range the manifests use, and tokens that are not numbers.</summary>
    public static readonly string[] EdgeNumbers =
    [
        "0", "-0", "-1", "1", "2", "9", "10", "11", "59", "60", "61", "63", "64", "79", "80", "81", "99", "100", "101",
        "127", "128", "129", "1000", "1001", "1023", "1024", "1025", "3600000", "3600001", "86400000", "86400001",
        "1000000", "1000001", "10000", "10001", "999", "2147483647", "2147483648", "-2147483648", "-2147483649",
        "4294967296", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "1e400", "-1e400", "1e-400", "1.0", "128.0", "1.5", "0.5", "10.000000000000001", "9.999999999999999", "1E2",
        "1e2", "5e-324", "1.7976931348623157e308", "00", "01", "+1", ".5", "5.", "1e", "0x10", "NaN", "Infinity",
        "-Infinity", "1_000", "١٢٣", "123456789012345678901234567890123456789012345678901234567890",
    ];

    private static readonly string[] KnownFields =
    [
        "$schema", "memory", "ttl", "timeout", "minReplicas", "maxReplicas", "workers", "rateLimitPerReplica", "routes",
        "events", "path", "public", "access", "policies", "sender", "keys", "topics", "settingsType", "delivery",
        "retries", "exponentialTimeoutCoefficient", "initialBackoffDelay", "exponentialBackoffCoefficient",
        "maxBackoffDelay", "concurrency", "maxEventAge", "perMinute", "concurrent", "vendor", "name", "version", "title",
        "description", "builders", "dependencies", "peerDependencies", "attrs", "settingsSchema", "billingOptions",
    ];

    private static readonly byte[][] BadUtf8 =
    [
        [0xff], [0xfe], [0xc0, 0x80], [0xc1, 0xbf], [0x80], [0xbf], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xed, 0xa0, 0x80],
        [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xef, 0xbb, 0xbf], [0x00],
    ];

    /// <summary>
    /// One fuzz input derived from <paramref name="valid"/> (not changed): most often a few tree mutations, sometimes
    /// text mutations on top, sometimes the valid document itself, sometimes noise.
    /// </summary>
    public static string Derive(Random random, JNode valid)
    {
        var mode = random.Next(100);
        if (mode < 5)
        {
            return RandomText(random);
        }

        var tree = valid.Clone();
        if (mode >= 15)
        {
            for (var i = 1 + random.Next(random.Next(3) == 0 ? 8 : 3); i > 0; i--)
            {
                tree = MutateTree(random, tree);
            }
        }

        var text = JsonText.Write(tree, JsonStyle.Random(random));
        if (mode >= 70)
        {
            for (var i = 1 + random.Next(3); i > 0; i--)
            {
                text = MutateText(random, text);
            }
        }

        return text;
    }

    /// <summary>A random JSON value up to <paramref name="depth"/> deep.</summary>
    public static JNode RandomValue(Random random, int depth)
    {
        switch (random.Next(depth > 0 ? 8 : 6))
        {
            case 0:
                return JNull.Instance;
            case 1:
                return new JBool(random.Next(2) == 0);
            case 2:
            case 3:
                return new JNumber(EdgeNumbers[random.Next(EdgeNumbers.Length)]);
            case 4:
            case 5:
                return new JString(Strings.Any(random, 256));
            case 6:
                var array = new JArray();
                for (var i = random.Next(4); i > 0; i--)
                {
                    array.Add(RandomValue(random, depth - 1));
                }

                return array;
            default:
                var obj = new JObject();
                for (var i = random.Next(4); i > 0; i--)
                {
                    obj.Add(RandomKey(random), RandomValue(random, depth - 1));
                }

                return obj;
        }
    }

    /// <summary>Applies one tree mutation; returns the (possibly new) root.</summary>
    public static JNode MutateTree(Random random, JNode root)
    {
        var slots = new List<Slot>();
        Collect(root, slots);
        var slot = slots.Count == 0 ? null : slots[random.Next(slots.Count)];
        var target = slot?.Get() ?? root;
        JNode Replace(JNode value)
        {
            if (slot is null)
            {
                return value;
            }

            slot.Set(value);
            return root;
        }

        switch (random.Next(14))
        {
            case 0:
                return Replace(RandomValue(random, 2));
            case 1:
                return Replace(WrongType(random, target));
            case 2:
            case 3:
                var numbers = slots.Where(s => s.Get() is JNumber).ToList();
                var numberSlot = numbers.Count > 0 ? numbers[random.Next(numbers.Count)] : slot;
                if (numberSlot is null)
                {
                    return root;
                }

                numberSlot.Set(new JNumber(EdgeNumbers[random.Next(EdgeNumbers.Length)]));
                return root;
            case 4:
                var objects = AllObjects(root);
                objects[random.Next(objects.Count)].Add(RandomKey(random), RandomValue(random, 2));
                return root;
            case 5:
                var withMembers = AllObjects(root).Where(o => o.Members.Count > 0).ToList();
                if (withMembers.Count > 0)
                {
                    var obj = withMembers[random.Next(withMembers.Count)];
                    obj.Members.RemoveAt(random.Next(obj.Members.Count));
                }

                return root;
            case 6:
                return Replace(Nest(random, target, random.Next(4) switch { 0 => 62 + random.Next(5), 1 => 1000 + random.Next(2000), _ => 1 + random.Next(100) }));
            case 7:
                var strings = slots.Where(s => s.Get() is JString).ToList();
                var stringSlot = strings.Count > 0 ? strings[random.Next(strings.Count)] : slot;
                stringSlot?.Set(new JString(random.Next(3) == 0 ? HugeString(random) : Strings.Any(random)));
                return root;
            case 8:
                var keyed = AllObjects(root).Where(o => o.Members.Count > 0).ToList();
                if (keyed.Count > 0)
                {
                    var obj = keyed[random.Next(keyed.Count)];
                    var at = random.Next(obj.Members.Count);
                    var name = random.Next(2) == 0 ? Strings.Mutate(random, obj.Members[at].Key) : Strings.Any(random, 300);
                    obj.Members[at] = new(name, obj.Members[at].Value);
                }

                return root;
            case 9:
                var dupes = AllObjects(root).Where(o => o.Members.Count > 0).ToList();
                if (dupes.Count > 0)
                {
                    var obj = dupes[random.Next(dupes.Count)];
                    var member = obj.Members[random.Next(obj.Members.Count)];
                    obj.Members.Insert(random.Next(obj.Members.Count + 1), new(member.Key, random.Next(2) == 0 ? member.Value.Clone() : RandomValue(random, 1)));
                }

                return root;
            case 10:
                return Replace(JNull.Instance);
            case 11:
                return Replace(target is JArray ? new JArray() : new JObject());
            case 12:
                var big = new JArray();
                for (var i = random.Next(20_000); i > 0; i--)
                {
                    big.Add(random.Next(2) == 0 ? new JString(Strings.Key(random)) : JNumber.Of(i));
                }

                return Replace(big);
            default:
                var many = AllObjects(root);
                var host = many[random.Next(many.Count)];
                for (var i = random.Next(2000); i > 0; i--)
                {
                    host.Add(Strings.HandlerId(random, 40) + i, RandomValue(random, 1));
                }

                return root;
        }
    }

    /// <summary>Applies one text mutation.</summary>
    public static string MutateText(Random random, string text)
    {
        var at = text.Length == 0 ? 0 : random.Next(text.Length);
        switch (random.Next(11))
        {
            case 0:
                return text[..at];
            case 1:
                return text.Remove(at, Math.Min(text.Length - at, 1 + random.Next(8)));
            case 2:
                return text.Insert(at, Strings.Pick(random, "{}[]\",:\\/*0-e.tfn \n\t\0").ToString());
            case 3:
                return text.Insert(at, ((char)random.Next(0xd800, 0xe000)).ToString());
            case 4:
                return InvalidUtf8(random, text);
            case 5:
                return (random.Next(2) == 0 ? "\ufeff" : "\0") + text;
            case 6:
                return text + random.Next(5) switch { 0 => "}", 1 => "x", 2 => " {}", 3 => "/*", _ => "\0" };
            case 7:
                return Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(text));
            case 8:
                var start = random.Next(text.Length + 1);
                var slice = text[start..Math.Min(text.Length, start + random.Next(64))];
                return text.Insert(at, slice);
            case 9:
                return text.Length == 0 ? text : text[..at] + (char)random.Next(0x10000) + text[Math.Min(text.Length, at + 1)..];
            default:
                return text.Insert(at, random.Next(3) switch { 0 => "//", 1 => "/*", _ => "*/" });
        }
    }

    /// <summary>
    /// Invalid UTF-8 bytes spliced into the UTF-8 encoding of <paramref name="text"/>, decoded as File.ReadAllText
    /// would (each bad sequence becomes U+FFFD).
    /// </summary>
    public static string InvalidUtf8(Random random, string text)
    {
        var bytes = new List<byte>(Encoding.UTF8.GetBytes(text));
        for (var i = 1 + random.Next(3); i > 0; i--)
        {
            bytes.InsertRange(random.Next(bytes.Count + 1), BadUtf8[random.Next(BadUtf8.Length)]);
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    /// <summary>Noise: random bytes decoded as UTF-8, or random UTF-16 code units, or a random JSON-ish token soup.</summary>
    public static string RandomText(Random random)
    {
        var length = random.Next(random.Next(4) == 0 ? 4096 : 64);
        switch (random.Next(3))
        {
            case 0:
                var bytes = new byte[length];
                random.NextBytes(bytes);
                return Encoding.UTF8.GetString(bytes);
            case 1:
                return Strings.Unicode(random, length);
            default:
                var builder = new StringBuilder();
                for (var i = 0; i < length; i++)
                {
                    builder.Append(random.Next(6) switch
                    {
                        0 => "{",
                        1 => "}",
                        2 => "[",
                        3 => "]",
                        4 => ",",
                        _ => random.Next(3) switch { 0 => "\"a\":", 1 => "1", _ => "null" },
                    });
                }

                return builder.ToString();
        }
    }

    private static string RandomKey(Random random) =>
        random.Next(3) switch
        {
            0 => KnownFields[random.Next(KnownFields.Length)],
            1 => Strings.Mutate(random, KnownFields[random.Next(KnownFields.Length)]),
            _ => Strings.Any(random, 200),
        };

    private static JNode WrongType(Random random, JNode node) =>
        node switch
        {
            JNumber number => random.Next(2) == 0 ? new JString(number.Raw) : new JBool(true),
            JString text => random.Next(2) == 0 ? new JNumber("1") : new JArray().Add(text),
            JBool boolean => new JString(boolean.Value ? "true" : "false"),
            JArray array => array.Items.Count > 0 ? array.Items[0] : new JObject(),
            JObject obj => obj.Members.Count > 0 ? new JArray().Add(obj) : new JString("{}"),
            _ => new JNumber("0"),
        };

    private static JNode Nest(Random random, JNode inner, int depth)
    {
        var node = inner;
        for (var i = 0; i < depth; i++)
        {
            node = random.Next(2) == 0 ? new JArray().Add(node) : new JObject().Add("a", node);
        }

        return node;
    }

    private static string HugeString(Random random)
    {
        var length = random.Next(4) == 0 ? 100_000 + random.Next(400_000) : 1000 + random.Next(20_000);
        return new string(Strings.Pick(random, "a-.é\ud83d/"), length);
    }

    private static List<JObject> AllObjects(JNode root)
    {
        var found = new List<JObject>();
        var stack = new Stack<JNode>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            switch (stack.Pop())
            {
                case JObject obj:
                    found.Add(obj);
                    obj.Members.ForEach(m => stack.Push(m.Value));
                    break;
                case JArray array:
                    array.Items.ForEach(stack.Push);
                    break;
            }
        }

        if (found.Count == 0)
        {
            // No object anywhere: give the caller a detached one so it always has a target.
            found.Add(new JObject());
        }

        return found;
    }

    private static void Collect(JNode node, List<Slot> slots)
    {
        var stack = new Stack<JNode>();
        stack.Push(node);
        while (stack.Count > 0 && slots.Count < 100_000)
        {
            switch (stack.Pop())
            {
                case JObject obj:
                    for (var i = 0; i < obj.Members.Count; i++)
                    {
                        var index = i;
                        slots.Add(new Slot(() => obj.Members[index].Value, v => obj.Members[index] = new(obj.Members[index].Key, v)));
                        stack.Push(obj.Members[i].Value);
                    }

                    break;
                case JArray array:
                    for (var i = 0; i < array.Items.Count; i++)
                    {
                        var index = i;
                        slots.Add(new Slot(() => array.Items[index], v => array.Items[index] = v));
                        stack.Push(array.Items[i]);
                    }

                    break;
            }
        }
    }

    private sealed record Slot(Func<JNode> Get, Action<JNode> Set);
}
