using Herald.Broker.Admin;
using Herald.Broker.Feeds;
using Herald.Broker.Registry;
using Herald.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Broker.Dispatching;

/// <summary>
/// Runs one <see cref="SubscriptionWorker"/> per active subscription, following the registry: a link starts
/// workers, a relink updates them, an unlink or a dropped handler stops them (their backlog stays in the store).
/// The registry awaits each change here, so when a link call answers, the workers match it.
/// </summary>
/// <remarks>
/// Shutdown drains in <see cref="StoppingAsync"/>, which the host runs before it stops any service, so the
/// HTTP server still answers (publishes get 503) while attempts in flight finish.
/// </remarks>
internal sealed class Dispatcher : IHostedLifecycleService, IAsyncDisposable
{
    private readonly AppRegistry _registry;
    private readonly IEventStore _store;
    private readonly DeliveryClient _client;
    private readonly OutcomeClassifier _classifier;
    private readonly Broadcast<ActivityInfo> _activity;
    private readonly BrokerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<Dispatcher> _logger;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly Dictionary<string, SubscriptionWorker> _workers = new(StringComparer.Ordinal);

    // Subscriptions whose queue the store could not open yet (guarded by _workers), and the loop that retries them.
    private readonly HashSet<string> _unopened = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private Task? _reopenLoop;
    private readonly SemaphoreSlim _reconcileLock = new(1, 1);
    private bool _started;
    private bool _stopped;

    public Dispatcher(AppRegistry registry, IEventStore store, DeliveryClient client, OutcomeClassifier classifier, Broadcast<ActivityInfo> activity, BrokerOptions options, TimeProvider timeProvider, IHostApplicationLifetime lifetime, ILogger<Dispatcher> logger)
    {
        _registry = registry;
        _store = store;
        _client = client;
        _classifier = classifier;
        _activity = activity;
        _options = options;
        _timeProvider = timeProvider;
        _lifetime = lifetime;
        _logger = logger;
        _registry.OnChange(ReconcileAsync);
    }

    /// <summary>The subscriptions whose worker has stopped on its own (they are not being delivered).</summary>
    public IReadOnlyList<string> StoppedWorkers()
    {
        lock (_workers)
        {
            return [.. _workers.Values.Where(w => !w.IsHealthy).Select(w => w.SubscriptionId)];
        }
    }

    /// <summary>The subscriptions whose queue the store could not open yet: not delivered until a retry opens it.</summary>
    public IReadOnlyList<string> UnopenedQueues()
    {
        lock (_workers)
        {
            return [.. _unopened.Order(StringComparer.Ordinal)];
        }
    }

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _started = true;
        await ReconcileAsync(_registry.Current, cancellationToken).ConfigureAwait(false);
    }

    private async Task ReconcileAsync(RegistrySnapshot snapshot, CancellationToken cancellationToken)
    {
        await _reconcileLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_started || _stopped)
            {
                return;
            }

            List<SubscriptionWorker> retired = [];
            List<Subscription> added = [];
            lock (_workers)
            {
                foreach (var (id, worker) in _workers.ToList())
                {
                    if (!snapshot.Subscriptions.ContainsKey(id))
                    {
                        _workers.Remove(id);
                        retired.Add(worker);
                    }
                }

                _unopened.RemoveWhere(id => !snapshot.Subscriptions.ContainsKey(id));

                foreach (var (id, subscription) in snapshot.Subscriptions)
                {
                    if (_workers.TryGetValue(id, out var worker))
                    {
                        worker.Update(subscription);
                    }
                    else
                    {
                        added.Add(subscription);
                    }
                }
            }

            await Task.WhenAll(retired.Select(async worker =>
            {
                await worker.DisposeAsync().ConfigureAwait(false);
                Log.WorkerStopped(_logger, worker.SubscriptionId);
            })).ConfigureAwait(false);

            foreach (var subscription in added)
            {
                await StartWorkerAsync(subscription, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _reconcileLock.Release();
        }
    }

    /// <summary>
    /// Opens a subscription's queue and starts its worker. A queue the store cannot open now (a cluster electing its
    /// leaders) is retried every <see cref="BrokerOptions.PollInterval"/> until it opens or the subscription goes; the
    /// other subscriptions start meanwhile. Runs under the reconcile lock.
    /// </summary>
    private async Task StartWorkerAsync(Subscription subscription, CancellationToken cancellationToken)
    {
        IDeliveryQueue queue;
        try
        {
            queue = await _store.OpenQueueAsync(subscription.Id, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            bool first;
            lock (_workers)
            {
                first = _unopened.Add(subscription.Id);
                _reopenLoop ??= Task.Run(ReopenLoopAsync);
            }

            if (first)
            {
                Log.QueueOpenFailed(_logger, subscription.Id, ex);
            }
            else
            {
                Log.QueueOpenRetryFailed(_logger, subscription.Id, ex.Message);
            }

            return;
        }

        lock (_workers)
        {
            _unopened.Remove(subscription.Id);
            _workers[subscription.Id] = new SubscriptionWorker(subscription, queue, _client, _classifier, _activity, _options, _timeProvider, _logger);
        }

        Log.WorkerStarted(_logger, subscription.Id, subscription.Policy.Concurrency);
    }

    /// <summary>Retries the queues that could not be opened, every poll interval, until none is left or the broker stops.</summary>
    private async Task ReopenLoopAsync()
    {
        var stopping = _stopping.Token;
        while (true)
        {
            try
            {
                await Task.Delay(_options.PollInterval, _timeProvider, stopping).ConfigureAwait(false);
                await _reconcileLock.WaitAsync(stopping).ConfigureAwait(false);
                try
                {
                    var snapshot = _registry.Current;
                    List<Subscription> retry = [];
                    lock (_workers)
                    {
                        _unopened.RemoveWhere(id => !snapshot.Subscriptions.ContainsKey(id));
                        retry.AddRange(_unopened.Select(id => snapshot.Subscriptions[id]));
                    }

                    if (!_stopped)
                    {
                        foreach (var subscription in retry)
                        {
                            await StartWorkerAsync(subscription, stopping).ConfigureAwait(false);
                        }
                    }
                }
                finally
                {
                    _reconcileLock.Release();
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Nothing here is expected to throw; the loop goes on at the next interval.
                Log.ReopenLoopFailed(_logger, ex);
            }

            lock (_workers)
            {
                if (_unopened.Count == 0 || _stopped)
                {
                    _reopenLoop = null;
                    return;
                }
            }
        }
    }

    /// <inheritdoc/>
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Signals <see cref="IHostApplicationLifetime.ApplicationStopping"/> (publishes answer 503 from here on, however
    /// the stop began), stops leasing and lets attempts in flight finish within <see cref="BrokerOptions.ShutdownGrace"/>.
    /// </summary>
    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        _lifetime.StopApplication();
        return StopAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task? reopenLoop = null;
        await _reconcileLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            SubscriptionWorker[] workers;
            lock (_workers)
            {
                workers = [.. _workers.Values];
                _workers.Clear();
                _unopened.Clear();
                reopenLoop = _reopenLoop;
            }

            await _stopping.CancelAsync().ConfigureAwait(false);

            await Task.WhenAll(workers.Select(w => w.DisposeAsync().AsTask())).ConfigureAwait(false);
        }
        finally
        {
            _reconcileLock.Release();
        }

        // Outside the lock: the loop may be waiting for it, and ends at the cancellation.
        if (reopenLoop is not null)
        {
            await reopenLoop.ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
    }
}
