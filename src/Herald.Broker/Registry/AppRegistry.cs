using System.Text.Json;
using Herald.Broker.Security;
using Herald.Manifests;
using Herald.Storage;

namespace Herald.Broker.Registry;

/// <summary>
/// The registry of linked apps: the store keeps it, <see cref="Current"/> serves it from memory. Every change is
/// applied in order under one lock: the store is written, the store is told of the subscriptions, the new snapshot is
/// handed to each observer (the dispatcher) and awaited, and only then does the call return.
/// </summary>
internal sealed class AppRegistry(IAppStore appStore, IEventStore eventStore, Credentials credentials, TimeProvider timeProvider)
{
    /// <summary>The reason given to deliveries of a subscription that a relink removed.</summary>
    public const string SubscriptionRemovedReason = "subscription-removed";

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly List<Func<RegistrySnapshot, CancellationToken, Task>> _observers = [];
    private RegistrySnapshot _current = RegistrySnapshot.Empty;
    private CancellationTokenSource _changed = new();

    /// <summary>The apps linked now.</summary>
    public RegistrySnapshot Current => Volatile.Read(ref _current);

    /// <summary>
    /// A token cancelled at the next change of <see cref="Current"/>: read it before <see cref="Current"/>, and a change
    /// made after that read cancels it.
    /// </summary>
    public CancellationToken Changed => Volatile.Read(ref _changed).Token;

    /// <summary>Adds an observer that every change awaits, with the new snapshot.</summary>
    public void OnChange(Func<RegistrySnapshot, CancellationToken, Task> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        lock (_observers)
        {
            _observers.Add(observer);
        }
    }

    /// <summary>Loads every linked app from the store.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var stored = await appStore.LoadAppsAsync(cancellationToken).ConfigureAwait(false);
            await PublishAsync(new RegistrySnapshot(stored.Select(Materialise)), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Links (or relinks) an app: validates its manifests and endpoint, draws a fresh token and signing secret, and
    /// dead-letters the undelivered deliveries of subscriptions a relink dropped (after their attempts in flight have
    /// finished). Returns once all of that is durable and the dispatcher follows the new registry.
    /// </summary>
    /// <exception cref="ManifestException">A manifest is invalid or does not match the path.</exception>
    public async Task<LinkedApp> LinkAsync(string account, string workspace, string sender, JsonElement manifestJson, JsonElement serviceJson, string endpoint, CancellationToken cancellationToken = default)
    {
        var manifestText = manifestJson.GetRawText();
        var serviceText = serviceJson.GetRawText();
        var manifest = AppManifest.Parse(manifestText, AppManifest.FileName);
        var service = ServiceManifest.Parse(serviceText, "dotnet/" + ServiceManifest.FileName);
        if (!string.Equals(manifest.SenderId, sender, StringComparison.Ordinal))
        {
            throw new ManifestException([new ManifestError(AppManifest.FileName, "$", $"must describe the app being linked, '{sender}'", $"\"{manifest.SenderId}\"")]);
        }

        var nonce = Credentials.NewNonce();
        var token = credentials.AppToken(account, workspace, sender, nonce);
        var stored = new StoredApp(account, workspace, sender, manifest.AppId, endpoint.TrimEnd('/'), nonce, Credentials.Hash(token), manifestText, serviceText, timeProvider.GetUtcNow());

        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var previous = Current.FindApp(account, workspace, sender);
            await appStore.SaveAppAsync(stored, cancellationToken).ConfigureAwait(false);

            // Saved: what follows completes even if the caller goes away, so the store and the workers agree with it.
            var linked = new LinkedApp(stored, manifest, service, token, credentials.SigningSecret(account, workspace, sender, nonce));
            foreach (var subscription in linked.Subscriptions)
            {
                await eventStore.SubscriptionChangedAsync(Spec(subscription), CancellationToken.None).ConfigureAwait(false);
            }

            await PublishAsync(new RegistrySnapshot(Current.Apps.Where(a => a != previous).Append(linked)), CancellationToken.None).ConfigureAwait(false);
            if (previous is not null)
            {
                var kept = linked.Subscriptions.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
                foreach (var removed in previous.Subscriptions.Where(s => !kept.Contains(s.Id)))
                {
                    await eventStore.SubscriptionRemovedAsync(removed.Id, SubscriptionRemovedReason, CancellationToken.None).ConfigureAwait(false);
                }
            }

            return linked;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Unlinks an app. Its undelivered deliveries stay in the store and resume if it is linked again.</summary>
    public async Task<bool> UnlinkAsync(string account, string workspace, string sender, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var removed = await appStore.DeleteAppAsync(account, workspace, sender, cancellationToken).ConfigureAwait(false);
            var previous = Current.FindApp(account, workspace, sender);
            if (previous is not null)
            {
                await PublishAsync(new RegistrySnapshot(Current.Apps.Where(a => a != previous)), CancellationToken.None).ConfigureAwait(false);
            }

            return removed || previous is not null;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Brings the registry in line with the store after a change another broker (or this one) made: apps whose link
    /// differs from the one held are taken from the store, apps no longer stored are dropped.
    /// </summary>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var stored = await appStore.LoadAppsAsync(cancellationToken).ConfigureAwait(false);
            var current = Current;
            var changed = stored.Count != current.Apps.Count;
            var apps = new List<LinkedApp>(stored.Count);
            foreach (var app in stored)
            {
                var held = current.FindApp(app.Account, app.Workspace, app.Sender);
                if (held is not null && held.Stored.LinkNonce == app.LinkNonce)
                {
                    apps.Add(held);
                }
                else
                {
                    apps.Add(Materialise(app));
                    changed = true;
                }
            }

            if (changed)
            {
                await PublishAsync(new RegistrySnapshot(apps), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>What the store is told of a subscription.</summary>
    public static SubscriptionSpec Spec(Subscription subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        return new SubscriptionSpec(subscription.Id, subscription.App.Account, subscription.App.Workspace, subscription.App.Sender, subscription.HandlerId,
            subscription.Declaration.Sender, subscription.Declaration.Keys, subscription.Policy);
    }

    private LinkedApp Materialise(StoredApp stored) => new(
        stored,
        AppManifest.Parse(stored.ManifestJson),
        ServiceManifest.Parse(stored.ServiceJson),
        credentials.AppToken(stored.Account, stored.Workspace, stored.Sender, stored.LinkNonce),
        credentials.SigningSecret(stored.Account, stored.Workspace, stored.Sender, stored.LinkNonce));

    private async Task PublishAsync(RegistrySnapshot snapshot, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _current, snapshot);
        // Not disposed: a reader may still be taking its token; one without timers needs no disposal.
        Interlocked.Exchange(ref _changed, new CancellationTokenSource()).Cancel();
        Func<RegistrySnapshot, CancellationToken, Task>[] observers;
        lock (_observers)
        {
            observers = [.. _observers];
        }

        foreach (var observer in observers)
        {
            await observer(snapshot, cancellationToken).ConfigureAwait(false);
        }
    }
}
