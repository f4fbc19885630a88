using Herald.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Broker.Internal;

/// <summary>
/// Deletes delivered events older than <see cref="BrokerOptions.Retention"/>, every
/// <see cref="BrokerOptions.PruneInterval"/>, in batches of <see cref="BrokerOptions.PruneBatch"/> so that
/// publishes queued behind it wait for one small transaction at most.
/// </summary>
internal sealed class Pruner(IRetentionStore store, BrokerOptions options, TimeProvider timeProvider, ILogger<Pruner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.PruneInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await PruneOnceAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Prunes everything past retention now; returns how many events were deleted.</summary>
    public async Task<int> PruneOnceAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        try
        {
            while (true)
            {
                var pruned = await store.PruneAsync(options.Retention, options.PruneBatch, cancellationToken).ConfigureAwait(false);
                total += pruned;
                if (pruned < options.PruneBatch)
                {
                    break;
                }

                await Task.Yield();
            }
        }
        catch (StoreUnavailableException ex)
        {
            Log.PruneFailed(logger, ex);
        }

        if (total > 0)
        {
            Log.Pruned(logger, total);
        }

        return total;
    }
}
