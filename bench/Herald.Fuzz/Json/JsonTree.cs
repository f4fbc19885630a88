using System.Globalization;
using System.Text;

namespace Herald.Fuzz.Json;

/// <summary>
/// A JSON tree the fuzzers build and mutate. Unlike System.Text.Json's nodes it keeps duplicate keys, raw number
/// tokens (<c>1e400</c>, <c>-0</c>, <c>007</c>) and any string, lone surrogates included.
/// </summary>
public abstract class JNode
{
    public abstract JNode Clone();
}

public sealed class JObject : JNode
{
    public List<KeyValuePair<string, JNode>> Members { get; } = [];

    public JObject Add(string key, JNode value)
    {
        Members.Add(new(key, value));
        return this;
    }

    public override JNode Clone()
    {
        var copy = new JObject();
        foreach (var (key, value) in Members)
        {
            copy.Add(key, value.Clone());
        }

        return copy;
    }
}

public sealed class JArray : JNode
{
    public List<JNode> Items { get; } = [];

    public JArray Add(JNode item)
    {
        Items.Add(item);
        return this;
    }

    public override JNode Clone()
    {
        var copy = new JArray();
        foreach (var item in Items)
        {
            copy.Add(item.Clone());
        }

        return copy;
    }
}

public sealed class JString(string value) : JNode
{
    public string Value { get; } = value;

    public override JNode Clone() => this;
}

/// <summary>A number written exactly as <see cref="Raw"/>, which may be any text (the fuzzers put invalid tokens here too).</summary>
public sealed class JNumber(string raw) : JNode
{
    public string Raw { get; } = raw;

    public static JNumber Of(long value) => new(value.ToString(CultureInfo.InvariantCulture));

    public static JNumber Of(double value) => new(value.ToString("R", CultureInfo.InvariantCulture));

    public override JNode Clone() => this;
}

public sealed class JBool(bool value) : JNode
{
    public bool Value { get; } = value;

    public override JNode Clone() => this;
}

public sealed class JNull : JNode
{
    public static readonly JNull Instance = new();

    public override JNode Clone() => this;
}

/// <summary>How a tree is written: layout, escaping, and the relaxations the manifest parser allows.</summary>
public sealed record JsonStyle(bool Indented, bool EscapeNonAscii, bool Comments, bool TrailingCommas)
{
    public static readonly JsonStyle Plain = new(false, false, false, false);

    public static JsonStyle Random(Random random) =>
        new(random.Next(3) == 0, random.Next(4) == 0, random.Next(8) == 0, random.Next(8) == 0);
}

/// <summary>Writes a <see cref="JNode"/> as JSON text.</summary>
public static class JsonText
{
    public static string Write(JNode node, JsonStyle? style = null)
    {
        var builder = new StringBuilder();
        Write(builder, node, style ?? JsonStyle.Plain, 0);
        return builder.ToString();
    }

    private static void Write(StringBuilder builder, JNode node, JsonStyle style, int depth)
    {
        switch (node)
        {
            case JObject obj:
                builder.Append('{');
                for (var i = 0; i < obj.Members.Count; i++)
                {
                    NewLine(builder, style, depth + 1);
                    if (style.Comments && i == 0)
                    {
                        builder.Append("/* fuzz */ ");
                    }

                    WriteString(builder, obj.Members[i].Key, style);
                    builder.Append(style.Indented ? ": " : ":");
                    Write(builder, obj.Members[i].Value, style, depth + 1);
                    if (i < obj.Members.Count - 1 || style.TrailingCommas)
                    {
                        builder.Append(',');
                    }

                    if (style.Comments && i == obj.Members.Count - 1)
                    {
                        builder.Append(" // end\n");
                    }
                }

                if (obj.Members.Count > 0)
                {
                    NewLine(builder, style, depth);
                }

                builder.Append('}');
                break;
            case JArray array:
                builder.Append('[');
                for (var i = 0; i < array.Items.Count; i++)
                {
                    Write(builder, array.Items[i], style, depth + 1);
                    if (i < array.Items.Count - 1 || style.TrailingCommas)
                    {
                        builder.Append(style.Indented ? ", " : ",");
                    }
                }

                builder.Append(']');
                break;
            case JString text:
                WriteString(builder, text.Value, style);
                break;
            case JNumber number:
                builder.Append(number.Raw);
                break;
            case JBool boolean:
                builder.Append(boolean.Value ? "true" : "false");
                break;
            default:
                builder.Append("null");
                break;
        }
    }

    private static void NewLine(StringBuilder builder, JsonStyle style, int depth)
    {
        if (style.Indented)
        {
            builder.Append('\n').Append(' ', Math.Min(depth, 40) * 2);
        }
    }

    /// <summary>
    /// Writes a JSON string. Characters JSON requires escaped are escaped; surrogates are written as
    /// <c>\uXXXX</c> escapes (a lone one stays lone, which is valid JSON text but not valid UTF-16).
    /// </summary>
    public static void WriteString(StringBuilder builder, string value, JsonStyle style)
    {
        builder.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    builder.Append("\\\"");
                    break;
                case '\\':
                    builder.Append("\\\\");
                    break;
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                default:
                    if (c < 0x20 || char.IsSurrogate(c) || (style.EscapeNonAscii && c > 0x7e))
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        builder.Append('"');
    }
}
