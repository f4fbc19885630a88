using System.Threading.Channels;
using Herald.Broker.Admin;
using Herald.Broker.Feeds;
using Herald.Broker.Internal;
using Herald.Broker.Registry;
using Herald.Storage;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Herald.Broker.Dispatching;

/// <summary>
/// Delivers one subscription's events from its store queue. Three loops, each supervised (an unexpected failure is
/// logged, waited out and survived): the lease loop leases up to the policy's concurrency and starts an attempt for
/// each; the settle loop writes finished attempts back in batches, then reports them on the activity feed; the keeper
/// extends the leases of attempts still running. The concurrency counts HTTP attempts in flight: an attempt frees its
/// slot when the app answers, while its settlement is written.
/// </summary>
internal sealed class SubscriptionWorker : IAsyncDisposable
{
    private readonly IDeliveryQueue _queue;
    private readonly DeliveryClient _client;
    private readonly OutcomeClassifier _classifier;
    private readonly Broadcast<ActivityInfo> _activity;
    private readonly BrokerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly WakeSignal _slotFreed = new();
    private readonly Channel<(Settlement Settlement, ActivityInfo? Activity)> _settlements;
    private readonly CancellationTokenSource _stopLeasing = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly ResiliencePipeline _settleRetry;
    private readonly Dictionary<DeliveryLease, Task> _attempts = [];
    private readonly HashSet<DeliveryLease> _outstanding = [];
    private readonly Task _leaseLoop;
    private readonly Task _settleLoop;
    private readonly Task _keeper;
    private Subscription _subscription;
    private int _inFlight;

    public SubscriptionWorker(Subscription subscription, IDeliveryQueue queue, DeliveryClient client, OutcomeClassifier classifier, Broadcast<ActivityInfo> activity, BrokerOptions options, TimeProvider timeProvider, ILogger logger)
    {
        _subscription = subscription;
        _queue = queue;
        _client = client;
        _classifier = classifier;
        _activity = activity;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _settlements = Channel.CreateBounded<(Settlement, ActivityInfo?)>(new BoundedChannelOptions(options.SettlementQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _settleRetry = new ResiliencePipelineBuilder { TimeProvider = timeProvider }
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
                    Log.SettleFailed(_logger, SubscriptionId, args.AttemptNumber + 1, args.Outcome.Exception);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        _leaseLoop = Task.Run(LeaseLoopAsync);
        _settleLoop = Task.Run(SettleLoopAsync);
        _keeper = Task.Run(KeepLeasesAsync);
    }

    public string SubscriptionId => _subscription.Id;

    /// <summary>Whether every loop is still running (a stopped loop means this subscription is not delivered).</summary>
    public bool IsHealthy => !_leaseLoop.IsCompleted && !_settleLoop.IsCompleted && !_keeper.IsCompleted;

    /// <summary>Swaps in the subscription of a relinked app (new endpoint, token, policy).</summary>
    public void Update(Subscription subscription)
    {
        Volatile.Write(ref _subscription, subscription);
        _slotFreed.Set();
    }

    private async Task LeaseLoopAsync()
    {
        var stopping = _stopLeasing.Token;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var subscription = Volatile.Read(ref _subscription);
                int free;
                lock (_outstanding)
                {
                    free = Math.Min(subscription.Policy.Concurrency - _inFlight, _options.SettlementQueueCapacity - _outstanding.Count);
                }

                if (free <= 0)
                {
                    await _slotFreed.WaitAsync(_options.PollInterval, _timeProvider, stopping).ConfigureAwait(false);
                    continue;
                }

                var leases = await _queue.LeaseAsync(free, _options.LeaseDuration, _options.PollInterval, stopping).ConfigureAwait(false);
                foreach (var lease in leases)
                {
                    lock (_outstanding)
                    {
                        _inFlight++;
                        _outstanding.Add(lease);
                        _attempts[lease] = Task.CompletedTask;
                    }

                    // Runs here until its request is on the wire; an attempt that already finished has removed itself.
                    var attempt = AttemptAsync(subscription, lease);
                    lock (_outstanding)
                    {
                        if (_attempts.ContainsKey(lease))
                        {
                            _attempts[lease] = attempt;
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Anything else, a store's own timeout (an OperationCanceledException not of this token) included.
                Log.LeaseFailed(_logger, SubscriptionId, ex);
                await WaitOutAsync(stopping).ConfigureAwait(false);
            }
        }
    }

    private async Task AttemptAsync(Subscription subscription, DeliveryLease lease)
    {
        var settled = false;
        try
        {
            var evt = lease.Event;
            var eventId = evt.Id.ToString();
            var policy = subscription.Policy;
            var now = _timeProvider.GetUtcNow();
            Settlement settlement;
            AttemptResult? result = null;
            if (now - evt.Time > TimeSpan.FromMilliseconds(policy.MaxEventAge))
            {
                settlement = OutcomeClassifier.Expired(lease, policy);
            }
            else
            {
                result = await _client.SendAsync(subscription, evt, eventId, lease.Attempt, _abort.Token).ConfigureAwait(false);
                settlement = _classifier.Classify(lease, policy, result, _timeProvider.GetUtcNow());
            }

            var kind = settlement.Kind switch
            {
                SettlementKind.Delivered => "delivered",
                SettlementKind.Dead => "dead",
                _ => "retrying",
            };
            BrokerTelemetry.RecordOutcome(kind, subscription.Id, result);

            // The activity line is for the live feed, and for the log line of a dead letter: nothing else needs it.
            ActivityInfo? activity = null;
            if (settlement.Kind == SettlementKind.Dead || _activity.HasReaders)
            {
                var error = settlement.Kind == SettlementKind.Dead ? settlement.DeadReason + (result?.Error is { } e ? $" ({e})" : "") : result?.Error;
                activity = new ActivityInfo(kind, eventId, evt.Key, evt.Sender, subscription.App.Sender, subscription.HandlerId, lease.Attempt, result?.Status, error, _timeProvider.GetUtcNow())
                {
                    Account = evt.Account,
                    Workspace = evt.Workspace,
                };
            }

            lock (_outstanding)
            {
                _inFlight--;
                _attempts.Remove(lease);
            }

            _slotFreed.Set();
            await _settlements.Writer.WriteAsync((settlement, activity), _abort.Token).ConfigureAwait(false);
            settled = true;
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            // Shutting down past the grace period: the lease is given up and the delivery is attempted again later.
        }
        catch (Exception ex)
        {
            // Nothing in an attempt is expected to throw; the lease is given up and runs out, so the delivery comes back.
            Log.AttemptFailed(_logger, SubscriptionId, ex);
        }
        finally
        {
            if (!settled)
            {
                lock (_outstanding)
                {
                    if (_attempts.Remove(lease))
                    {
                        _inFlight--;
                    }

                    _outstanding.Remove(lease);
                }

                _slotFreed.Set();
            }
        }
    }

    private async Task SettleLoopAsync()
    {
        var batch = new List<(Settlement Settlement, ActivityInfo? Activity)>(_options.SettlementBatch);
        var settlements = new List<Settlement>(_options.SettlementBatch);
        while (await _settlements.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            settlements.Clear();
            while (batch.Count < _options.SettlementBatch && _settlements.Reader.TryRead(out var item))
            {
                batch.Add(item);
                settlements.Add(item.Settlement);
            }

            try
            {
                await _settleRetry.ExecuteAsync(async ct => await _queue.SettleAsync(settlements, ct).ConfigureAwait(false), _abort.Token).ConfigureAwait(false);
                foreach (var (settlement, activity) in batch)
                {
                    if (activity is null)
                    {
                        continue;
                    }

                    if (settlement.Kind == SettlementKind.Dead)
                    {
                        // The activity's error is the reason with the last attempt's outcome ("... (HTTP 503)").
                        Log.DeadLettered(_logger, activity.EventId, activity.Key, activity.Sender, SubscriptionId, activity.Account, activity.Workspace,
                            activity.Attempt ?? settlement.Lease.Attempt, activity.Error ?? settlement.DeadReason ?? "dead");
                    }

                    _activity.Write(activity);
                }
            }
            catch (OperationCanceledException) when (_abort.IsCancellationRequested)
            {
                // Shutting down past the grace period with the store down: these leases run out and come back.
            }
            catch (Exception ex)
            {
                Log.SettleFailed(_logger, SubscriptionId, 0, ex);
            }
            finally
            {
                lock (_outstanding)
                {
                    foreach (var settlement in settlements)
                    {
                        _outstanding.Remove(settlement.Lease);
                    }
                }

                _slotFreed.Set();
            }
        }
    }

    /// <summary>Extends the leases of attempts that are still running or being settled, every third of a lease.</summary>
    private async Task KeepLeasesAsync()
    {
        using var timer = new PeriodicTimer(_options.LeaseDuration / 3, _timeProvider);
        var stopping = _abort.Token;
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                try
                {
                    DeliveryLease[] leases;
                    lock (_outstanding)
                    {
                        leases = [.. _outstanding];
                    }

                    if (leases.Length > 0)
                    {
                        await _queue.ExtendAsync(leases, _options.LeaseDuration, stopping).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (!stopping.IsCancellationRequested)
                {
                    Log.ExtendFailed(_logger, SubscriptionId, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task WaitOutAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(_options.PollInterval, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Stops leasing, lets attempts in flight finish and their settlements be written within the grace period, then
    /// abandons the rest (their leases run out and the deliveries are attempted again), and closes the queue.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _stopLeasing.CancelAsync().ConfigureAwait(false);
        await _leaseLoop.ConfigureAwait(false);
        Task[] attempts;
        lock (_outstanding)
        {
            attempts = [.. _attempts.Values];
        }

        using var grace = new CancellationTokenSource(_options.ShutdownGrace, _timeProvider);
        try
        {
            await Task.WhenAll(attempts).WaitAsync(grace.Token).ConfigureAwait(false);
            _settlements.Writer.TryComplete();
            await _settleLoop.WaitAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (grace.IsCancellationRequested)
        {
            Log.ShutdownAbandoned(_logger, SubscriptionId);
        }

        await _abort.CancelAsync().ConfigureAwait(false);
        _settlements.Writer.TryComplete();
        await Task.WhenAll(attempts).ConfigureAwait(false);
        await _settleLoop.ConfigureAwait(false);
        await _keeper.ConfigureAwait(false);
        await _queue.DisposeAsync().ConfigureAwait(false);
        _stopLeasing.Dispose();
        _abort.Dispose();
    }
}
