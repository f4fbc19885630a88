using Herald.Broker.Registry;
using Herald.Broker.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Broker.Dispatching;

/// <summary>
/// Runs one <see cref="SubscriptionWorker"/> per active subscription, following the registry: a link starts
/// workers, a relink updates them, an unlink stops them (their backlog stays in the store).
/// </summary>
/// <remarks>
/// Shutdown drains in <see cref="StoppingAsync"/>, which the host runs before it stops any service, so the
/// HTTP server still answers (publishes get 503) while attempts in flight finish.
/// </remarks>
public sealed class Dispatcher : IHostedLifecycleService, IAsyncDisposable
{
    private readonly AppRegistry _registry;
    private readonly IEventStore _store;
    private readonly DeliveryClient _client;
    private readonly OutcomeClassifier _classifier;
    private readonly OutcomeWriter _outcomes;
    private readonly BrokerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<Dispatcher> _logger;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly Dictionary<string, SubscriptionWorker> _workers = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _reconcileLock = new(1, 1);
    private bool _started;
    private bool _stopped;

    public Dispatcher(AppRegistry registry, IEventStore store, DeliveryClient client, OutcomeClassifier classifier, OutcomeWriter outcomes, BrokerOptions options, TimeProvider timeProvider, IHostApplicationLifetime lifetime, ILogger<Dispatcher> logger)
    {
        _lifetime = lifetime;
        _registry = registry;
        _store = store;
        _client = client;
        _classifier = classifier;
        _outcomes = outcomes;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _registry.Changed += snapshot => _ = ReconcileAsync(snapshot);
        _outcomes.Written += Wake;
    }

    /// <summary>Wakes the workers of the given subscriptions (after a publish or a written outcome).</summary>
    public void Wake(IEnumerable<string> subscriptionIds)
    {
        ArgumentNullException.ThrowIfNull(subscriptionIds);
        lock (_workers)
        {
            foreach (var id in subscriptionIds)
            {
                if (_workers.TryGetValue(id, out var worker))
                {
                    worker.Wake();
                }
            }
        }
    }

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _started = true;
        await ReconcileAsync(_registry.Current).ConfigureAwait(false);
    }

    private async Task ReconcileAsync(RegistrySnapshot snapshot)
    {
        await _reconcileLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_started || _stopped)
            {
                return;
            }

            var current = _registry.Current;
            List<SubscriptionWorker> retired = [];
            lock (_workers)
            {
                foreach (var (id, worker) in _workers.ToList())
                {
                    if (!current.Subscriptions.ContainsKey(id))
                    {
                        _workers.Remove(id);
                        retired.Add(worker);
                    }
                }

                foreach (var (id, subscription) in current.Subscriptions)
                {
                    if (_workers.TryGetValue(id, out var worker))
                    {
                        worker.Update(subscription);
                    }
                    else
                    {
                        _workers[id] = new SubscriptionWorker(subscription, _store, _client, _classifier, _outcomes, _options, _timeProvider, _logger);
                        Log.WorkerStarted(_logger, id, subscription.Policy.Concurrency);
                    }
                }
            }

            foreach (var worker in retired)
            {
                await worker.DisposeAsync().ConfigureAwait(false);
                Log.WorkerStopped(_logger, worker.SubscriptionId);
            }
        }
        finally
        {
            _reconcileLock.Release();
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
            }

            await Task.WhenAll(workers.Select(w => w.DisposeAsync().AsTask())).ConfigureAwait(false);
            await _outcomes.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _reconcileLock.Release();
        }
    }

    /// <inheritdoc/>
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);
}
