using System.Globalization;
using System.Text.Json;

namespace Herald.Manifests;

/// <summary>Walks a JSON document, collecting <see cref="ManifestError"/>s with exact JSON paths.</summary>
internal sealed class JsonValidator(string file)
{
    private readonly List<ManifestError> _errors = [];

    public IReadOnlyList<ManifestError> Errors => _errors;

    public void Error(string path, string rule, JsonElement? value) =>
        _errors.Add(new ManifestError(file, path, rule, value is { } v ? Shorten(v.GetRawText()) : null));

    public static JsonElement? Parse(string file, string json, out ManifestError? error)
    {
        error = null;
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, AllowDuplicateProperties = false });
            root = document.RootElement.Clone();
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
        {
            error = new ManifestError(file, "$", "must be valid JSON: " + ex.Message, null);
            return null;
        }

        var bad = FindInvalidString(root, "$");
        if (bad is not null)
        {
            error = new ManifestError(file, bad, "must be a string of valid Unicode: an escape such as \\ud800 (a lone surrogate) is not", null);
            return null;
        }

        return root;
    }

    /// <summary>The path of the first name or string that does not decode to valid UTF-16 (a lone surrogate escape), or <c>null</c>.</summary>
    private static string? FindInvalidString(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                try
                {
                    _ = element.GetString();
                    return null;
                }
                catch (InvalidOperationException)
                {
                    return path;
                }

            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return path;
                    }

                    if (FindInvalidString(property.Value, Child(path, name)) is { } inner)
                    {
                        return inner;
                    }
                }

                return null;

            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FindInvalidString(item, Index(path, index++)) is { } inner)
                    {
                        return inner;
                    }
                }

                return null;

            default:
                return null;
        }
    }

    /// <summary>Checks that <paramref name="element"/> is an object and has only <paramref name="known"/> fields.</summary>
    public bool Object(JsonElement element, string path, IReadOnlyCollection<string> known)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            Error(path, "must be an object", element);
            return false;
        }

        foreach (var property in element.EnumerateObject())
        {
            if (!known.Contains(property.Name))
            {
                Error(Child(path, property.Name), "is not a known field; known fields here are " + string.Join(", ", known), property.Value);
            }
        }

        return true;
    }

    public static string Child(string path, string name) =>
        IsPlainName(name) ? $"{path}.{name}" : $"{path}['{name.Replace("'", "\\'", StringComparison.Ordinal)}']";

    public static string Index(string path, int index) => string.Create(CultureInfo.InvariantCulture, $"{path}[{index}]");

    public int? Int(JsonElement parent, string path, string name, int min, int max, bool required = false)
    {
        if (!Get(parent, path, name, required, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number) || number < min || number > max)
        {
            Error(Child(path, name), string.Create(CultureInfo.InvariantCulture, $"must be a whole number from {min} to {max}"), value);
            return null;
        }

        return (int)number;
    }

    public double? Number(JsonElement parent, string path, string name, double min, double max)
    {
        if (!Get(parent, path, name, false, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || number < min || number > max || !double.IsFinite(number))
        {
            Error(Child(path, name), string.Create(CultureInfo.InvariantCulture, $"must be a number from {min} to {max}"), value);
            return null;
        }

        return number;
    }

    public bool? Bool(JsonElement parent, string path, string name)
    {
        if (!Get(parent, path, name, false, out var value))
        {
            return null;
        }

        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            Error(Child(path, name), "must be true or false", value);
            return null;
        }

        return value.GetBoolean();
    }

    public string? String(JsonElement parent, string path, string name, Func<string, bool>? rule = null, string? ruleText = null, bool required = false)
    {
        if (!Get(parent, path, name, required, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            Error(Child(path, name), "must be a string" + (ruleText is null ? "" : ": " + ruleText), value);
            return null;
        }

        var text = value.GetString()!;
        if (rule is not null && !rule(text))
        {
            Error(Child(path, name), "must be " + ruleText, value);
            return null;
        }

        return text;
    }

    public IReadOnlyList<string>? StringArray(JsonElement parent, string path, string name, Func<string, bool> rule, string ruleText, bool nonEmpty)
    {
        if (!Get(parent, path, name, false, out var value))
        {
            return null;
        }

        var arrayPath = Child(path, name);
        if (value.ValueKind != JsonValueKind.Array)
        {
            Error(arrayPath, "must be an array of strings", value);
            return null;
        }

        var items = new List<string>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || !rule(item.GetString()!))
            {
                Error(Index(arrayPath, index), "must be " + ruleText, item);
            }
            else
            {
                items.Add(item.GetString()!);
            }

            index++;
        }

        if (nonEmpty && index == 0)
        {
            Error(arrayPath, "must list at least one entry", value);
        }

        return items;
    }

    public bool Get(JsonElement parent, string path, string name, bool required, out JsonElement value)
    {
        if (parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }

        if (required)
        {
            Error(Child(path, name), "is required", null);
        }

        value = default;
        return false;
    }

    private static bool IsPlainName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] is '_' or '$') && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '$');

    private static string Shorten(string raw) => raw.Length <= 80 ? raw : raw[..77] + "...";
}
