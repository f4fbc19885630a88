using System.Text.Json;
using System.Text.RegularExpressions;

namespace Herald.Manifests;

/// <summary>An app's <c>manifest.json</c>: who it is and what it builds with.</summary>
public sealed partial record AppManifest(
    string Vendor,
    string Name,
    string Version,
    string? Title,
    string? Description,
    IReadOnlyDictionary<string, string> Builders,
    IReadOnlyDictionary<string, string> Dependencies)
{
    /// <summary>The file name.</summary>
    public const string FileName = "manifest.json";

    private static readonly string[] Fields =
    [
        "$schema", "vendor", "name", "version", "title", "description", "builders", "policies", "dependencies",
        "peerDependencies", "settingsSchema", "credentialType", "registries", "mustUpdateAt", "categories",
        "scripts", "billingOptions",
    ];

    /// <summary>The sender id of events this app fires: <c>vendor.name</c>, no version.</summary>
    public string SenderId => $"{Vendor}.{Name}";

    /// <summary>The app id: <c>vendor.name@version</c>.</summary>
    public string AppId => $"{Vendor}.{Name}@{Version}";

    [GeneratedRegex(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex SemVer();

    [GeneratedRegex(@"^(\d+\.x|\d+\.\d+\.\d+|\d+\.\d+\.x)\z", RegexOptions.CultureInvariant)]
    private static partial Regex BuilderVersion();

    /// <summary>Parses and validates a manifest; throws <see cref="ManifestException"/> with every error found.</summary>
    /// <param name="json">The file's text.</param>
    /// <param name="file">The file name to use in errors.</param>
    public static AppManifest Parse(string json, string file = FileName)
    {
        var root = JsonValidator.Parse(file, json, out var parseError);
        if (root is not { } element)
        {
            throw new ManifestException([parseError!]);
        }

        var v = new JsonValidator(file);
        if (!v.Object(element, "$", Fields))
        {
            throw new ManifestException(v.Errors);
        }

        var vendor = v.String(element, "$", "vendor", Names.IsAppName, Names.AppNameRule, required: true);
        var name = v.String(element, "$", "name", Names.IsAppName, Names.AppNameRule, required: true);
        var version = v.String(element, "$", "version", s => SemVer().IsMatch(s), "a semantic version such as 0.1.0", required: true);
        var title = v.String(element, "$", "title");
        var description = v.String(element, "$", "description");
        var builders = StringMap(v, element, "builders", Names.IsBuilderName, Names.BuilderNameRule, s => BuilderVersion().IsMatch(s), "a builder version such as 1.x");
        var dependencies = StringMap(v, element, "dependencies", Names.IsSender, Names.SenderRule, s => s.Length > 0, "a version range such as 0.x");
        StringMap(v, element, "peerDependencies", Names.IsSender, Names.SenderRule, s => s.Length > 0, "a version range such as 0.x");

        if (v.Get(element, "$", "policies", false, out var policies))
        {
            ValidatePolicies(v, policies, "$.policies");
        }

        if (v.Errors.Count > 0)
        {
            throw new ManifestException(v.Errors);
        }

        return new AppManifest(vendor!, name!, version!, title, description, builders, dependencies);
    }

    private static Dictionary<string, string> StringMap(JsonValidator v, JsonElement parent, string field, Func<string, bool> keyRule, string keyRuleText, Func<string, bool> valueRule, string valueRuleText)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!v.Get(parent, "$", field, false, out var value))
        {
            return map;
        }

        var path = "$." + field;
        if (value.ValueKind != JsonValueKind.Object)
        {
            v.Error(path, "must be an object", value);
            return map;
        }

        foreach (var property in value.EnumerateObject())
        {
            var itemPath = JsonValidator.Child(path, property.Name);
            if (!keyRule(property.Name))
            {
                v.Error(itemPath, "has a name that must be " + keyRuleText, null);
            }
            else if (property.Value.ValueKind != JsonValueKind.String || !valueRule(property.Value.GetString()!))
            {
                v.Error(itemPath, "must be " + valueRuleText, property.Value);
            }
            else
            {
                map[property.Name] = property.Value.GetString()!;
            }
        }

        return map;
    }

    private static void ValidatePolicies(JsonValidator v, JsonElement policies, string path)
    {
        if (policies.ValueKind != JsonValueKind.Array)
        {
            v.Error(path, "must be an array of {\"name\": ..., \"attrs\": {...}}", policies);
            return;
        }

        var index = 0;
        foreach (var policy in policies.EnumerateArray())
        {
            var itemPath = JsonValidator.Index(path, index++);
            if (v.Object(policy, itemPath, ["name", "attrs"]))
            {
                v.String(policy, itemPath, "name", s => s.Length > 0, "a policy name", required: true);
                if (v.Get(policy, itemPath, "attrs", false, out var attrs) && attrs.ValueKind != JsonValueKind.Object)
                {
                    v.Error(itemPath + ".attrs", "must be an object", attrs);
                }
            }
        }
    }
}
