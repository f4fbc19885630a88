using System.Collections.Frozen;
using Herald.Manifests;

namespace Herald.Broker.Registry;

/// <summary>An immutable view of every linked app, swapped whole on each link or unlink; publishes read it lock-free.</summary>
internal sealed class RegistrySnapshot
{
    /// <summary>No apps.</summary>
    public static readonly RegistrySnapshot Empty = new([]);

    private readonly FrozenDictionary<string, LinkedApp> _byTokenHash;
    private readonly FrozenDictionary<(string Account, string Workspace), LinkedApp[]> _byWorkspace;

    public RegistrySnapshot(IEnumerable<LinkedApp> apps)
    {
        Apps = apps.ToList();
        _byTokenHash = Apps.ToFrozenDictionary(a => a.Stored.TokenHash, StringComparer.Ordinal);
        _byWorkspace = Apps.GroupBy(a => (a.Account, a.Workspace)).ToFrozenDictionary(g => g.Key, g => g.ToArray());
        Subscriptions = Apps.SelectMany(a => a.Subscriptions).ToFrozenDictionary(s => s.Id, StringComparer.Ordinal);
    }

    /// <summary>Every linked app.</summary>
    public IReadOnlyList<LinkedApp> Apps { get; }

    /// <summary>Every active subscription by id.</summary>
    public FrozenDictionary<string, Subscription> Subscriptions { get; }

    /// <summary>The app a token hash belongs to.</summary>
    public LinkedApp? FindByTokenHash(string tokenHash) => _byTokenHash.GetValueOrDefault(tokenHash);

    /// <summary>The apps linked in a workspace.</summary>
    public IReadOnlyList<LinkedApp> AppsIn(string account, string workspace) =>
        _byWorkspace.TryGetValue((account, workspace), out var apps) ? apps : [];

    /// <summary>The app linked in a workspace under a sender id.</summary>
    public LinkedApp? FindApp(string account, string workspace, string sender) =>
        AppsIn(account, workspace).FirstOrDefault(a => string.Equals(a.Sender, sender, StringComparison.Ordinal));

    /// <summary>The subscriptions an event fans out to: its workspace only, matching sender (or any) and key.</summary>
    public List<Subscription> Route(string account, string workspace, string sender, string key)
    {
        var matches = new List<Subscription>();
        foreach (var app in AppsIn(account, workspace))
        {
            foreach (var subscription in app.Subscriptions)
            {
                if (subscription.Matches(sender, key))
                {
                    matches.Add(subscription);
                }
            }
        }

        return matches;
    }

    /// <summary>The app route that serves <paramref name="path"/> in a workspace, with its parameters.</summary>
    public (LinkedApp App, RouteDeclaration Route)? FindRoute(string account, string workspace, string path)
    {
        foreach (var app in AppsIn(account, workspace))
        {
            foreach (var route in app.Service.Routes.Values)
            {
                if (route.Path.Match(path) is not null)
                {
                    return (app, route);
                }
            }
        }

        return null;
    }
}
