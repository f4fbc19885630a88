using Herald.Broker.Registry;
using Herald.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Broker.Internal;

/// <summary>
/// The backlog of every subscription for the gauges <c>herald.deliveries.pending</c>, <c>.in_flight</c> and
/// <c>.dead</c> (in <see cref="BrokerTelemetry"/>): the store is asked for all subscriptions' counts once every
/// <see cref="BrokerOptions.BacklogSampleInterval"/>, and the gauges report the last answer, so a scrape never waits
/// on the store.
/// </summary>
internal sealed class BacklogGauges : BackgroundService
{
    private readonly AppRegistry _registry;
    private readonly IEventStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<BacklogGauges> _logger;
    private readonly TimeSpan _interval;
    private volatile IReadOnlyDictionary<string, DeliveryCounts> _counts = new Dictionary<string, DeliveryCounts>();
    private volatile IReadOnlyDictionary<string, DateTimeOffset> _oldest = new Dictionary<string, DateTimeOffset>();

    public BacklogGauges(AppRegistry registry, IEventStore store, BrokerOptions options, TimeProvider timeProvider, ILogger<BacklogGauges> logger)
    {
        _interval = options.BacklogSampleInterval;
        _registry = registry;
        _store = store;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>The counts of the last sample, by subscription.</summary>
    public IReadOnlyDictionary<string, DeliveryCounts> Counts => _counts;

    /// <summary>The lag of each subscription now: how long ago its oldest undelivered event (at the last sample) was accepted; zero when it had none.</summary>
    public IEnumerable<(string Subscription, TimeSpan Lag)> Lags()
    {
        var now = _timeProvider.GetUtcNow();
        var oldest = _oldest;
        foreach (var subscription in _counts.Keys)
        {
            yield return (subscription, oldest.TryGetValue(subscription, out var time) && time < now ? now - time : TimeSpan.Zero);
        }
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        BrokerTelemetry.Track(this);
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        BrokerTelemetry.Untrack(this);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, _timeProvider);
        do
        {
            try
            {
                var subscriptions = _registry.Current.Subscriptions.Keys;
                if (subscriptions.Length == 0)
                {
                    _counts = new Dictionary<string, DeliveryCounts>();
                }
                else
                {
                    var counts = await _store.CountAsync(subscriptions, stoppingToken).ConfigureAwait(false);
                    _oldest = await _store.OldestUndeliveredAsync(subscriptions, stoppingToken).ConfigureAwait(false);
                    _counts = counts;
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The gauges keep the last counts; the store's health check reports the store itself.
                Log.BacklogSampleFailed(_logger, ex);
            }
        }
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
