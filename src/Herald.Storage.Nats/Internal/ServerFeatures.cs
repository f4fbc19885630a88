using System.Globalization;

namespace Herald.Storage.Nats.Internal;

/// <summary>
/// What the connected server can do, read from the version in its INFO (<c>2.9.10</c>, <c>2.10.22</c>,
/// <c>2.11.0-RC.1</c>). The store runs on 2.9 and later, and asks for a newer feature only where the server has it:
/// 2.9 drops fields it does not know without a word, so asking regardless would leave the store guessing.
/// </summary>
internal sealed record ServerFeatures(Version Version)
{
    /// <summary>The oldest server the store runs on: 2.9 (what Debian 12 ships is 2.9.10).</summary>
    public static readonly Version Oldest = new(2, 9);

    /// <summary>Whether the server runs JetStream features the store needs (2.9 and later).</summary>
    public bool IsSupported => Version >= Oldest;

    /// <summary>S2 compression of a stream's files (2.10 and later): the store's streams are compressed where it is.</summary>
    public bool HasStreamCompression => Version >= new Version(2, 10);

    /// <summary>The features of a server that reports <paramref name="version"/>; an unreadable version counts as 0.0.</summary>
    public static ServerFeatures Parse(string? version)
    {
        var numbers = (version ?? "").Split('-', 2)[0].TrimStart('v').Split('.');
        var parts = new int[3];
        for (var i = 0; i < numbers.Length && i < parts.Length; i++)
        {
            if (!int.TryParse(numbers[i], NumberStyles.None, CultureInfo.InvariantCulture, out parts[i]))
            {
                return new ServerFeatures(new Version(0, 0));
            }
        }

        return new ServerFeatures(new Version(parts[0], parts[1], parts[2]));
    }
}
