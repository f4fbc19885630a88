using Herald.Broker.Registry;
using Herald.Broker.Security;
using Herald.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Broker.Internal;

/// <summary>Opens the store (recovering deliveries a crash left in flight) and loads the registry, before the dispatcher starts.</summary>
internal sealed class BrokerStartup(IEventStore store, AppRegistry registry, Credentials credentials, BrokerOptions options, ILogger<BrokerStartup> logger, IKeyAgreement? keys = null) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        if (keys is not null)
        {
            var agreed = await keys.AgreeOnKeysAsync(credentials.Fingerprint, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(agreed, credentials.Fingerprint, StringComparison.Ordinal))
            {
                throw new BrokerKeysMismatchException(
                    $"This broker's keys (broker.key and admin.token in {options.DataDirectory}, fingerprint {credentials.Fingerprint}) are not those of the brokers already on its store (fingerprint {agreed}): "
                    + "each would refuse the tokens the others issue. Give every broker on the store the same broker.key and admin.token (copy them from the data folder of a broker already running), then start it again.");
            }
        }

        await registry.LoadAsync(cancellationToken).ConfigureAwait(false);
        Log.AppsLoaded(logger, registry.Current.Apps.Count);
        Log.Listening(logger, options.Url, options.DataDirectory);
        if (IsExposedWithoutTls(options.Url))
        {
            Log.InsecureBind(logger, options.Url);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Whether <paramref name="url"/> is plain http on an address other machines may reach.</summary>
    internal static bool IsExposedWithoutTls(string url)
    {
        var uri = new Uri(url);
        if (uri.Scheme != Uri.UriSchemeHttp || uri.IsLoopback)
        {
            return false;
        }

        return !System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) || !System.Net.IPAddress.IsLoopback(ip);
    }
}
