using Herald.Broker.Registry;
using Herald.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Broker.Internal;

/// <summary>
/// Follows the store's registry changes, so that links and unlinks made through any broker on the store reach this
/// one. Each change is a cue to refresh from the store (never applied from the notice itself), so a late or repeated
/// notice cannot bring back an older link. A failed watch is logged, waited out and started again.
/// </summary>
internal sealed class RegistryWatcher(IAppStore appStore, AppRegistry registry, BrokerOptions options, TimeProvider timeProvider, ILogger<RegistryWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var changes = appStore.WatchAsync(stoppingToken).GetAsyncEnumerator(stoppingToken);
                await using (changes.ConfigureAwait(false))
                {
                    // Catch up with what changed while no watch was open, then follow.
                    await registry.RefreshAsync(stoppingToken).ConfigureAwait(false);
                    while (await changes.MoveNextAsync().ConfigureAwait(false))
                    {
                        await registry.RefreshAsync(stoppingToken).ConfigureAwait(false);
                    }
                }

                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.RegistryWatchFailed(logger, ex);
                try
                {
                    await Task.Delay(options.PollInterval, timeProvider, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
