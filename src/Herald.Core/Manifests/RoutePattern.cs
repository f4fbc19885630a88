namespace Herald.Manifests;

/// <summary>
/// A route path as VTEX IO writes it: literal segments, <c>:param</c> for one segment and <c>*param</c> for the rest.
/// </summary>
public sealed class RoutePattern
{
    private readonly string[] _segments;

    private RoutePattern(string text, string[] segments)
    {
        Text = text;
        _segments = segments;
    }

    /// <summary>The path as declared.</summary>
    public string Text { get; }

    /// <summary>The rule a route path follows, for error messages.</summary>
    public const string Rule = "a path starting with '/', of literal segments (letters, digits and -._~!$&'()*+,;=:@, no '%'), ':param' or a final '*param', not using the reserved segments 'events' or '_events' first";

    /// <summary>Parses <paramref name="text"/>; returns <c>null</c> when it breaks <see cref="Rule"/>.</summary>
    public static RoutePattern? TryParse(string text)
    {
        if (text.Length is 0 or > 1024 || text[0] != '/' || text.Contains("//", StringComparison.Ordinal) || !text.All(IsPathCharacter))
        {
            return null;
        }

        var segments = text.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length > 0 && segments[0] is HeraldReservedSegments.Events or HeraldReservedSegments.DeliveryEndpoint)
        {
            return null;
        }

        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            if (segment is "." or "..")
            {
                return null;
            }

            if (segment[0] is ':' or '*' && (segment.Length == 1 || !Names.IsHandlerId(segment[1..])))
            {
                return null;
            }

            if (segment[0] == '*' && i != segments.Length - 1)
            {
                return null;
            }
        }

        return new RoutePattern(text, segments);
    }

    /// <summary>
    /// Letters, digits and the characters RFC 3986 allows unescaped in a path segment, less '%': a route is written
    /// decoded, so an escape could hide a dot segment or a reserved name.
    /// </summary>
    private static bool IsPathCharacter(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '/' or '-' or '.' or '_' or '~' or '!' or '$' or '&' or '\'' or '(' or ')' or '*' or '+' or ',' or ';' or '=' or ':' or '@';

    /// <summary>Matches a request path; returns the parameters, or <c>null</c> when it does not match.</summary>
    public IReadOnlyDictionary<string, string>? Match(string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < _segments.Length; i++)
        {
            var segment = _segments[i];
            if (segment[0] == '*')
            {
                values[segment[1..]] = string.Join('/', parts.Skip(i).Select(Uri.UnescapeDataString));
                return values;
            }

            if (i >= parts.Length)
            {
                return null;
            }

            if (segment[0] == ':')
            {
                values[segment[1..]] = Uri.UnescapeDataString(parts[i]);
            }
            else if (!string.Equals(segment, parts[i], StringComparison.Ordinal))
            {
                return null;
            }
        }

        return parts.Length == _segments.Length ? values : null;
    }

    /// <inheritdoc/>
    public override string ToString() => Text;
}

/// <summary>Path segments that no route may start with.</summary>
public static class HeraldReservedSegments
{
    public const string Events = "events";
    public const string DeliveryEndpoint = "_events";
}
