using System.Threading.Channels;
using Herald.Broker.Admin;
using Herald.Broker.Feeds;
using Herald.Broker.Storage;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Herald.Broker.Dispatching;

/// <summary>
/// Writes attempt outcomes back to the store in batches. A batch that cannot be written is retried until it is;
/// meanwhile its deliveries stay leased, and after a crash they are attempted again (at-least-once).
/// </summary>
public sealed class OutcomeWriter : IAsyncDisposable
{
    private const int MaxBatch = 512;

    private readonly Channel<(DeliveryOutcome Outcome, string SubscriptionId, ActivityInfo Activity)> _queue =
        Channel.CreateUnbounded<(DeliveryOutcome, string, ActivityInfo)>(new UnboundedChannelOptions { SingleReader = true });

    private readonly IEventStore _store;
    private readonly Broadcast<ActivityInfo> _activity;
    private readonly ILogger<OutcomeWriter> _logger;
    private readonly ResiliencePipeline _retry;
    private readonly Task _loop;

    public OutcomeWriter(IEventStore store, Broadcast<ActivityInfo> activity, TimeProvider timeProvider, ILogger<OutcomeWriter> logger)
    {
        _store = store;
        _activity = activity;
        _logger = logger;
        _retry = new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<StoreUnavailableException>(),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromMilliseconds(100),
                MaxDelay = TimeSpan.FromSeconds(5),
                UseJitter = true,
                OnRetry = args =>
                {
                    Log.OutcomeWriteFailed(_logger, args.AttemptNumber + 1, args.Outcome.Exception);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Raised after a batch is durable, with the subscriptions it touched.</summary>
    public event Action<IReadOnlyCollection<string>>? Written;

    /// <summary>Queues an outcome.</summary>
    public void Enqueue(DeliveryOutcome outcome, string subscriptionId, ActivityInfo activity) =>
        _queue.Writer.TryWrite((outcome, subscriptionId, activity));

    private async Task RunAsync()
    {
        var batch = new List<(DeliveryOutcome Outcome, string SubscriptionId, ActivityInfo Activity)>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            var outcomes = batch.Select(b => b.Outcome).ToList();
            await _retry.ExecuteAsync(async ct => await _store.RecordOutcomesAsync(outcomes, ct).ConfigureAwait(false)).ConfigureAwait(false);
            foreach (var item in batch)
            {
                _activity.Write(item.Activity);
            }

            Written?.Invoke(batch.Select(b => b.SubscriptionId).ToHashSet(StringComparer.Ordinal));
        }
    }

    /// <summary>Writes everything queued, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }
}
