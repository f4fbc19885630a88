using Herald.Storage;
using Herald.Delivery;
using Herald.Manifests;
using Herald.Protocol;

namespace Herald.Broker.Registry;

/// <summary>A linked app with its parsed manifests, derived credentials and subscriptions.</summary>
internal sealed class LinkedApp
{
    internal LinkedApp(StoredApp stored, AppManifest manifest, ServiceManifest service, string token, string signingSecret)
    {
        Stored = stored;
        Manifest = manifest;
        Service = service;
        Token = token;
        SigningSecret = signingSecret;
        SigningKey = WebhookSignature.DecodeSecret(signingSecret);
        Endpoint = new Uri(stored.Endpoint);
        DeliveryUri = new Uri(Endpoint, HeraldPaths.DeliveryPath(stored.Account, stored.Workspace));
        Subscriptions = service.Events.Values
            .Select(e => new Subscription(this, e))
            .ToList();
    }

    /// <summary>What the store keeps.</summary>
    public StoredApp Stored { get; }

    /// <summary>The app's manifest.json.</summary>
    public AppManifest Manifest { get; }

    /// <summary>The app's service.json.</summary>
    public ServiceManifest Service { get; }

    /// <summary>The app's token (sent to it as <c>x-vtex-credential</c>).</summary>
    public string Token { get; }

    /// <summary>The app's signing secret.</summary>
    public string SigningSecret { get; }

    /// <summary>The HMAC key of <see cref="SigningSecret"/>, decoded once.</summary>
    public byte[] SigningKey { get; }

    /// <summary>The app's subscriptions, one per entry of <c>events</c>.</summary>
    public IReadOnlyList<Subscription> Subscriptions { get; }

    public string Account => Stored.Account;

    public string Workspace => Stored.Workspace;

    /// <summary><c>vendor.name</c>.</summary>
    public string Sender => Stored.Sender;

    /// <summary>Where the app listens.</summary>
    public Uri Endpoint { get; }

    /// <summary>Where its deliveries go: <c>POST {endpoint}/{account}/{workspace}/_events</c>, parsed once.</summary>
    public Uri DeliveryUri { get; }
}

/// <summary>One subscription: an app's handler, what it listens to and its delivery policy.</summary>
internal sealed class Subscription
{
    internal Subscription(LinkedApp app, EventDeclaration declaration)
    {
        App = app;
        Declaration = declaration;
        Id = MakeId(app.Account, app.Workspace, app.Sender, declaration.HandlerId);
    }

    /// <summary>
    /// <c>{account}/{workspace}/{vendor.name}/{handlerId}</c>: stable across relinks, so an app unlinked and linked
    /// again keeps its backlog.
    /// </summary>
    public string Id { get; }

    public LinkedApp App { get; }

    public EventDeclaration Declaration { get; }

    public string HandlerId => Declaration.HandlerId;

    public DeliveryPolicy Policy => Declaration.Delivery;

    /// <summary>Whether an event with this sender and key is for this subscription (a declaration with a sender and no keys takes every key).</summary>
    public bool Matches(string sender, string key) =>
        (Declaration.Sender is null || string.Equals(Declaration.Sender, sender, StringComparison.Ordinal))
        && (Declaration.Keys.Count == 0 || Declaration.Keys.Contains(key, StringComparer.Ordinal));

    /// <summary>Builds a subscription id.</summary>
    public static string MakeId(string account, string workspace, string appSender, string handlerId) =>
        $"{account}/{workspace}/{appSender}/{handlerId}";
}
