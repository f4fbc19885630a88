using Herald.Broker.Admin;
using Herald.Broker.Internal;
using Herald.Broker.Registry;
using Herald.Broker.Storage;
using Microsoft.Extensions.Logging;

namespace Herald.Broker.Dispatching;

/// <summary>
/// Delivers one subscription's events: leases due deliveries up to the policy's concurrency, attempts each, and
/// hands outcomes to the <see cref="OutcomeWriter"/>. Sleeps until woken by a publish, a finished attempt, a
/// written outcome, or the next due time.
/// </summary>
internal sealed class SubscriptionWorker : IAsyncDisposable
{
    private readonly IEventStore _store;
    private readonly DeliveryClient _client;
    private readonly OutcomeClassifier _classifier;
    private readonly OutcomeWriter _outcomes;
    private readonly BrokerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly WakeSignal _wake = new();
    private readonly CancellationTokenSource _stopLeasing = new();
    private readonly CancellationTokenSource _abortAttempts = new();
    private readonly Task _loop;
    private readonly List<Task> _attempts = [];
    private Subscription _subscription;
    private int _inFlight;

    public SubscriptionWorker(Subscription subscription, IEventStore store, DeliveryClient client, OutcomeClassifier classifier, OutcomeWriter outcomes, BrokerOptions options, TimeProvider timeProvider, ILogger logger)
    {
        _subscription = subscription;
        _store = store;
        _client = client;
        _classifier = classifier;
        _outcomes = outcomes;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    public string SubscriptionId => _subscription.Id;

    /// <summary>Swaps in the subscription of a relinked app (new endpoint, token, policy).</summary>
    public void Update(Subscription subscription)
    {
        Volatile.Write(ref _subscription, subscription);
        _wake.Set();
    }

    public void Wake() => _wake.Set();

    private async Task RunAsync()
    {
        var stopping = _stopLeasing.Token;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var subscription = Volatile.Read(ref _subscription);
                var free = subscription.Policy.Concurrency - Volatile.Read(ref _inFlight);
                if (free > 0)
                {
                    var now = _timeProvider.GetUtcNow();
                    var lease = subscription.Policy.AttemptTimeout(subscription.Policy.MaxAttempts) + _options.LeaseSlack;
                    var leased = await _store.LeaseAsync(subscription.Id, free, now, now + lease, stopping).ConfigureAwait(false);
                    foreach (var delivery in leased)
                    {
                        Interlocked.Increment(ref _inFlight);
                        Track(AttemptAsync(subscription, delivery));
                    }

                    if (leased.Count == free)
                    {
                        continue;
                    }
                }

                await _wake.WaitAsync(await NextWaitAsync(subscription.Id, stopping).ConfigureAwait(false), _timeProvider, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (StoreUnavailableException ex)
            {
                Log.LeaseFailed(_logger, SubscriptionId, ex);
                await _wake.WaitAsync(_options.PollInterval, _timeProvider, stopping).ConfigureAwait(false);
            }
        }
    }

    private async Task<TimeSpan> NextWaitAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        var next = await _store.NextDueAsync(subscriptionId, cancellationToken).ConfigureAwait(false);
        if (next is not { } due)
        {
            return _options.PollInterval;
        }

        var wait = due - _timeProvider.GetUtcNow();
        return wait <= TimeSpan.Zero ? TimeSpan.FromMilliseconds(1) : wait < _options.PollInterval ? wait : _options.PollInterval;
    }

    private async Task AttemptAsync(Subscription subscription, LeasedDelivery delivery)
    {
        try
        {
            var evt = delivery.Event;
            var now = _timeProvider.GetUtcNow();
            DeliveryOutcome outcome;
            AttemptResult? result = null;
            if (now - evt.Time > TimeSpan.FromMilliseconds(subscription.Policy.MaxEventAge))
            {
                outcome = OutcomeClassifier.Expired(delivery.DeliveryId, subscription.Policy, now);
            }
            else
            {
                result = await _client.SendAsync(subscription, evt, delivery.Attempt, _abortAttempts.Token).ConfigureAwait(false);
                outcome = _classifier.Classify(delivery.DeliveryId, delivery.Attempt, subscription.Policy, evt.Time, result, _timeProvider.GetUtcNow());
            }

            var kind = outcome.NewState switch
            {
                DeliveryState.Delivered => "delivered",
                DeliveryState.Dead => "dead",
                _ => "retrying",
            };
            BrokerTelemetry.Outcomes.Add(1, new KeyValuePair<string, object?>("herald.outcome", kind));
            if (result is not null)
            {
                BrokerTelemetry.OperationDuration.Record(result.Duration.TotalSeconds, new KeyValuePair<string, object?>("messaging.operation.name", "deliver"));
            }

            var error = outcome.NewState == DeliveryState.Dead ? outcome.DeadReason + (result?.Error is { } e ? $" ({e})" : "") : result?.Error;
            _outcomes.Enqueue(outcome, subscription.Id, new ActivityInfo(kind, evt.Id.ToString(), evt.Key, evt.Sender, subscription.App.Sender,
                subscription.HandlerId, delivery.Attempt, result?.Status, error, outcome.At)
            {
                Account = evt.Account,
                Workspace = evt.Workspace,
            });
        }
        catch (OperationCanceledException)
        {
            // Shutting down past the grace period: the delivery stays leased and is attempted again after restart.
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
            _wake.Set();
        }
    }

    private void Track(Task attempt)
    {
        lock (_attempts)
        {
            _attempts.RemoveAll(t => t.IsCompleted);
            _attempts.Add(attempt);
        }
    }

    /// <summary>Stops leasing, waits up to the grace period for attempts in flight, then abandons the rest (they stay leased).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopLeasing.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        Task[] attempts;
        lock (_attempts)
        {
            attempts = [.. _attempts];
        }

        var all = Task.WhenAll(attempts);
        using var grace = new CancellationTokenSource(_options.ShutdownGrace, _timeProvider);
        try
        {
            await all.WaitAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await _abortAttempts.CancelAsync().ConfigureAwait(false);
            await all.ConfigureAwait(false);
        }

        _stopLeasing.Dispose();
        _abortAttempts.Dispose();
    }
}
