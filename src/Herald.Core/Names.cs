using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Herald;

/// <summary>
/// The names Herald accepts for accounts, workspaces, event keys, apps and handlers, and the rule each follows.
/// </summary>
public static partial class Names
{
    /// <summary>The rule for accounts and workspaces, as shown in error messages.</summary>
    public const string TenantRule = "lower-case letters, digits and '-', 1 to 63 characters, starting with a letter or digit";

    /// <summary>The rule for event keys, as shown in error messages.</summary>
    public const string KeyRule = "a letter or digit, then up to 127 letters, digits, '.', '_' or '-'";

    /// <summary>The rule for vendors and app names.</summary>
    public const string AppNameRule = "a lower-case letter, then lower-case letters, digits, '-' or '_', at most 63 characters";

    /// <summary>The rule for sender ids.</summary>
    public const string SenderRule = "'vendor.name' where each part is " + AppNameRule;

    /// <summary>The rule for a sender an event declaration listens to.</summary>
    public const string DeclaredSenderRule = SenderRule + ", or the one-word name of a VTEX IO service such as 'apps'";

    /// <summary>The rule for a builder's name.</summary>
    public const string BuilderNameRule = "a letter, then letters, digits, '-' or '_', at most 63 characters, such as dotnet or paymentProvider";

    /// <summary>The rule for handler and route ids.</summary>
    public const string HandlerIdRule = "a letter, then letters, digits, '_' or '-', at most 128 characters";

    /// <summary>The workspace that is production.</summary>
    public const string ProductionWorkspace = "master";

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex TenantPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex KeyPattern();

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,62}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex AppNamePattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,127}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex HandlerIdPattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,62}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex BuilderPattern();

    /// <summary>Whether <paramref name="value"/> is a valid account name.</summary>
    public static bool IsAccount([NotNullWhen(true)] string? value) => value is not null && TenantPattern().IsMatch(value);

    /// <summary>Whether <paramref name="value"/> is a valid workspace name.</summary>
    public static bool IsWorkspace([NotNullWhen(true)] string? value) => value is not null && TenantPattern().IsMatch(value);

    /// <summary>Whether <paramref name="value"/> is a valid event key (or topic).</summary>
    public static bool IsKey([NotNullWhen(true)] string? value) => value is not null && KeyPattern().IsMatch(value);

    /// <summary>Whether <paramref name="value"/> is a valid vendor or app name.</summary>
    public static bool IsAppName([NotNullWhen(true)] string? value) => value is not null && AppNamePattern().IsMatch(value);

    /// <summary>Whether <paramref name="value"/> is a valid handler or route id.</summary>
    public static bool IsHandlerId([NotNullWhen(true)] string? value) => value is not null && HandlerIdPattern().IsMatch(value);

    /// <summary>Whether <paramref name="value"/> is a sender id, <c>vendor.name</c>.</summary>
    public static bool IsSender([NotNullWhen(true)] string? value)
    {
        if (value is null)
        {
            return false;
        }

        var dot = value.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && IsAppName(value[..dot]) && IsAppName(value[(dot + 1)..]);
    }

    /// <summary>Whether <paramref name="value"/> may be the sender an event declaration listens to or the admin publishes as: a
    /// <c>vendor.name</c>, or one of VTEX IO's own services, named by one app-name word (<c>apps</c>).</summary>
    public static bool IsDeclaredSender([NotNullWhen(true)] string? value) => IsSender(value) || IsAppName(value);

    /// <summary>Whether <paramref name="value"/> is a builder's name in <c>manifest.json</c> (<c>dotnet</c>, <c>paymentProvider</c>).</summary>
    public static bool IsBuilderName([NotNullWhen(true)] string? value) => value is not null && BuilderPattern().IsMatch(value);

    /// <summary>Whether <paramref name="workspace"/> is the production workspace.</summary>
    public static bool IsProduction(string workspace) => string.Equals(workspace, ProductionWorkspace, StringComparison.Ordinal);
}
