using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Herald.Broker;

/// <summary>
/// Reads Herald's options from configuration (a JSON file's <c>Herald</c> section, <c>Herald__…</c> environment
/// variables) onto options objects, collecting every problem instead of stopping at the first: a key that names no
/// option, and a value that is not of the option's type. Rules on the values themselves are the options' own
/// (<see cref="BrokerOptions.Problems"/>).
/// </summary>
public static class HeraldConfiguration
{
    /// <summary>The configuration section that holds Herald's options.</summary>
    public const string Section = "Herald";

    /// <summary>
    /// Sets <paramref name="target"/>'s public properties from the values under <paramref name="section"/> (keys match
    /// property names, ignoring case) and adds a line to <paramref name="errors"/> for each key that is neither an
    /// option nor one of <paramref name="elsewhere"/>, and for each value that does not convert.
    /// </summary>
    /// <param name="section">The section whose children are the options, e.g. <c>Herald</c> or <c>Herald:Nats</c>.</param>
    /// <param name="target">The options object, holding its defaults.</param>
    /// <param name="errors">Where problems are added, each naming the key, what it must be and the value found.</param>
    /// <param name="elsewhere">Keys under <paramref name="section"/> that are read by someone else, with a note for a key that must not be set here (<c>null</c> when it is simply read elsewhere).</param>
    public static void Bind(IConfigurationSection section, object target, ICollection<string> errors, IReadOnlyDictionary<string, string?>? elsewhere = null)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(errors);
        var properties = target.GetType()
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } || IsStringList(p.PropertyType))
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (elsewhere is not null && elsewhere.TryGetValue(child.Key, out var note))
            {
                if (note is not null)
                {
                    errors.Add($"{child.Path} cannot be set: {note}");
                }

                continue;
            }

            if (!properties.TryGetValue(child.Key, out var property))
            {
                var known = properties.Keys
                    .Where(k => elsewhere is null || !elsewhere.TryGetValue(k, out var refused) || refused is null)
                    .Concat(elsewhere?.Where(e => e.Value is null).Select(e => e.Key) ?? [])
                    .Distinct(StringComparer.OrdinalIgnoreCase)
                    .Order(StringComparer.Ordinal);
                errors.Add($"{child.Path} is not a Herald option; the keys under {section.Path} are {string.Join(", ", known)}.");
                continue;
            }

            if (IsStringList(property.PropertyType))
            {
                var list = (IList<string>)property.GetValue(target)!;
                var values = child.Value is { } single
                    ? single.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                    : child.GetChildren().Select(c => c.Value).ToArray();
                if (values.Any(v => v is null))
                {
                    errors.Add($"{child.Path} must be a list of strings (a JSON array, or {child.Path}:0, :1, ...); found an entry that is not a string.");
                    continue;
                }

                list.Clear();
                foreach (var value in values)
                {
                    list.Add(value!);
                }

                continue;
            }

            if (child.Value is null)
            {
                errors.Add($"{child.Path} must be {Kind(property.PropertyType)}; found a section, not a value.");
                continue;
            }

            try
            {
                property.SetValue(target, child.Get(property.PropertyType));
            }
            catch (InvalidOperationException)
            {
                errors.Add($"{child.Path} must be {Kind(property.PropertyType)}; found '{child.Value}'.");
            }
        }
    }

    /// <summary>
    /// The rule-breaking values of an options object, each problem (which starts with the option's name) prefixed
    /// with the section's path so it names the configuration key.
    /// </summary>
    public static IEnumerable<string> Keyed(IConfigurationSection section, IEnumerable<string> problems)
    {
        ArgumentNullException.ThrowIfNull(section);
        return problems.Select(p => $"{section.Path}:{p}");
    }

    private static bool IsStringList(Type type) => type == typeof(IList<string>);

    private static string Kind(Type type) => type switch
    {
        _ when type == typeof(int) || type == typeof(long) => "a whole number",
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(TimeSpan) => "a duration, [d.]hh:mm:ss such as 00:00:30",
        _ when type == typeof(string) => "a string",
        _ => "a " + type.Name.ToLower(CultureInfo.InvariantCulture),
    };
}
