using System.Text.Json;
using Herald.Broker.Security;
using Herald.Broker.Storage;
using Herald.Manifests;

namespace Herald.Broker.Registry;

/// <summary>The registry of linked apps: the store keeps it, <see cref="Current"/> serves it from memory.</summary>
public sealed class AppRegistry(IAppStore appStore, IEventStore eventStore, Credentials credentials, TimeProvider timeProvider)
{
    /// <summary>The reason given to deliveries of a subscription that a relink removed.</summary>
    public const string SubscriptionRemovedReason = "subscription-removed";

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private RegistrySnapshot _current = RegistrySnapshot.Empty;

    /// <summary>Raised after every change, with the new snapshot.</summary>
    public event Action<RegistrySnapshot>? Changed;

    /// <summary>The apps linked now.</summary>
    public RegistrySnapshot Current => Volatile.Read(ref _current);

    /// <summary>Loads every linked app from the store.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken = default)
    {
        var stored = await appStore.LoadAppsAsync(cancellationToken).ConfigureAwait(false);
        var apps = new List<LinkedApp>(stored.Count);
        foreach (var app in stored)
        {
            apps.Add(Materialise(app));
        }

        Publish(new RegistrySnapshot(apps));
    }

    /// <summary>
    /// Links (or relinks) an app: validates its manifests and endpoint, draws a fresh token and signing secret,
    /// and dead-letters the undelivered deliveries of subscriptions a relink dropped.
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
            var linked = new LinkedApp(stored, manifest, service, token, credentials.SigningSecret(account, workspace, sender, nonce));
            if (previous is not null)
            {
                var kept = linked.Subscriptions.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
                foreach (var removed in previous.Subscriptions.Where(s => !kept.Contains(s.Id)))
                {
                    await eventStore.DeadLetterSubscriptionAsync(removed.Id, SubscriptionRemovedReason, timeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                }
            }

            Publish(new RegistrySnapshot(Current.Apps.Where(a => a != previous).Append(linked)));
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
                Publish(new RegistrySnapshot(Current.Apps.Where(a => a != previous)));
            }

            return removed || previous is not null;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private LinkedApp Materialise(StoredApp stored) => new(
        stored,
        AppManifest.Parse(stored.ManifestJson),
        ServiceManifest.Parse(stored.ServiceJson),
        credentials.AppToken(stored.Account, stored.Workspace, stored.Sender, stored.LinkNonce),
        credentials.SigningSecret(stored.Account, stored.Workspace, stored.Sender, stored.LinkNonce));

    private void Publish(RegistrySnapshot snapshot)
    {
        Volatile.Write(ref _current, snapshot);
        Changed?.Invoke(snapshot);
    }
}
