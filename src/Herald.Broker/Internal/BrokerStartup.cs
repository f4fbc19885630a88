using Herald.Broker.Registry;
using Herald.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Broker.Internal;

/// <summary>Opens the store (recovering deliveries a crash left in flight) and loads the registry, before the dispatcher starts.</summary>
internal sealed class BrokerStartup(IEventStore store, AppRegistry registry, BrokerOptions options, ILogger<BrokerStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
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
