using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Threading.Channels;
using System.Text;
using Herald.Storage.Nats.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;

namespace Herald.Storage.Nats;

/// <summary>
/// The cluster store on NATS JetStream, shared by every broker on the cluster. A publish is one message on the events
/// stream (its commit point); each broker copies committed events to one queue per subscription on the deliveries
/// stream (a work queue, each read by one durable pull consumer); dead letters, delivered markers, the app registry and
/// the attempt history of deliveries that failed live in streams and buckets of their own. Time is the servers'.
/// </summary>
/// <remarks>
/// Recovery: a lease is an unacknowledged message. A live broker keeps its leases alive and hands back the ones that
/// run out; when a broker dies, the server hands its leases out again after <see cref="NatsStoreOptions.AckWait"/>,
/// as the next attempt.
/// </remarks>
public sealed partial class NatsEventStore : IEventStore, IAppStore, IDeadLetterStore, IRetentionStore, IAsyncDisposable
{
    /// <summary>How long the fan-out waits for the cluster to confirm an event's copies before it copies the event again.</summary>
    private static readonly TimeSpan CopyConfirmTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How soon an event taken by a fan-out that went away (a broker stopped or crashed with a pull outstanding) is
    /// handed to another: short, since copying an event is quick and a copy made twice is stored once.
    /// </summary>
    private static readonly TimeSpan FanOutAckWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a subscription's removal waits for the fan-out to copy the events appended before it: a healthy
    /// cluster's longest is a failed copy's retry (2 s to confirm, then 1 s) or a crashed broker's pull handed on (5 s).
    /// </summary>
    private static readonly TimeSpan FanOutCatchUpDeadline = TimeSpan.FromSeconds(30);

    /// <summary>How long a new replicated stream or consumer may take to elect its leader.</summary>
    private static readonly TimeSpan LeaderDeadline = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a start keeps asking JetStream again when a request of its gets no answer within the connection's request
    /// timeout: a cluster that is starting, or whose servers are starved of CPU, answers late but answers.
    /// </summary>
    private static readonly TimeSpan StartupDeadline = TimeSpan.FromSeconds(60);

    /// <summary>
    /// One pull of the fan-out: up to 256 events, answered as they come, ending within a second.
    /// </summary>
    /// <remarks>
    /// Short pulls ask for no idle heartbeats, here and in the queues and the registry watch. A pull whose client misses
    /// two heartbeats (a process stalled for a second on a loaded machine) ends and drops its inbox while the server may
    /// still be sending to it: what the server sent is then lost to the client, and waits out the ack wait (or, with no
    /// acks, is never seen). Without heartbeats a pull ends at the server's answer that it expired, or, when the server
    /// that held it went away, at the client's own deadline five seconds later, and no message is sent to a closed inbox.
    /// </remarks>
    private static readonly NatsJSFetchOpts FanOutPull = new() { MaxMsgs = 256, Expires = TimeSpan.FromSeconds(1), IdleHeartbeat = TimeSpan.Zero };

    private readonly NatsStoreOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly StoreNames _names;
    private readonly NatsConnection _connection;
    private readonly NatsJSContext _js;
    private readonly NatsKVContext _kv;
    private readonly ConcurrentDictionary<string, NatsDeliveryQueue> _queues = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private INatsKVStore? _apps;
    private INatsKVStore? _attempts;
    private Task? _fanOut;
    private ServerFeatures _server = new(new Version(0, 0));
    private int _disposed;

    /// <summary>Creates a store on the cluster at <see cref="NatsStoreOptions.Url"/>.</summary>
    public NatsEventStore(NatsStoreOptions options, TimeProvider? timeProvider = null, ILogger<NatsEventStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } problems)
        {
            throw new ArgumentException(problems, nameof(options));
        }

        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _names = new StoreNames(options.Prefix);
        _connection = new NatsConnection(NatsOpts.Default with
        {
            Url = options.Url,
            Name = "herald-broker",
            RequestTimeout = TimeSpan.FromSeconds(5),
        });
        _js = new NatsJSContext(_connection);
        _kv = new NatsKVContext(_js);
    }

    internal StoreNames Names => _names;

    internal NatsJSContext JetStream => _js;

    internal NatsStoreOptions Options => _options;

    /// <summary>What the connected server can do (read at <see cref="InitializeAsync"/>).</summary>
    internal ServerFeatures Server => _server;

    internal TimeProvider Clock => _timeProvider;

    internal INatsKVStore Attempts => _attempts ?? throw NotInitialised();

    private INatsKVStore Apps => _apps ?? throw NotInitialised();

    /// <inheritdoc/>
    public async ValueTask InitializeAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _connection.ConnectAsync().ConfigureAwait(false);
            Log.Connected(_logger, _connection.ServerInfo?.Version, _options.Url);
            var started = _timeProvider.GetTimestamp();
            _server = ServerFeatures.Parse(_connection.ServerInfo?.Version);
            if (!_server.IsSupported)
            {
                throw new StoreUnavailableException($"The NATS server at {_options.Url} is version {_connection.ServerInfo?.Version}; Herald's store needs nats-server {ServerFeatures.Oldest} or later with JetStream enabled.");
            }

            // Streams and buckets are made at once: on a cluster each is a replicated group that elects a leader.
            var replicas = _options.Replicas;
            // The apps bucket keeps the last revisions of each app, not only the latest: a watch that has not read a save
            // yet (between two pulls, or while it makes its consumer again) still finds it after a relink replaced it.
            var apps = AskUntilAnsweredAsync(ct => _kv.CreateOrUpdateStoreAsync(new NatsKVConfig(_names.AppsBucket) { History = AppRevisionsKept, NumberOfReplicas = replicas, Storage = NatsKVStorageType.File, Description = "Herald: linked apps" }, ct), "Bucket " + _names.AppsBucket, started, cancellationToken);
            var attempts = AskUntilAnsweredAsync(ct => _kv.CreateOrUpdateStoreAsync(new NatsKVConfig(_names.AttemptsBucket) { History = 1, NumberOfReplicas = replicas, Storage = NatsKVStorageType.File, Description = "Herald: attempts of deliveries that failed" }, ct), "Bucket " + _names.AttemptsBucket, started, cancellationToken);
            await Task.WhenAll(
                EnsureStreamAsync(new StreamConfig(_names.EventsStream, [_names.AllEvents])
                {
                    Description = "Herald: every accepted event, the commit point of a publish",
                    Retention = StreamConfigRetention.Limits,
                    MaxAge = _options.Retention,
                    DuplicateWindow = _options.DedupeWindow,
                }, started, cancellationToken).AsTask(),
                EnsureStreamAsync(new StreamConfig(_names.DeliveriesStream, [_names.AllDeliveries])
                {
                    Description = "Herald: one queue of deliveries per subscription",
                    Retention = StreamConfigRetention.Workqueue,
                    DuplicateWindow = TimeSpan.FromMinutes(2),
                }, started, cancellationToken).AsTask(),
                EnsureStreamAsync(new StreamConfig(_names.DeadLettersStream, [_names.AllDeadLetters])
                {
                    Description = "Herald: dead letters, until redriven or purged",
                    Retention = StreamConfigRetention.Limits,
                    DuplicateWindow = TimeSpan.FromMinutes(2),
                }, started, cancellationToken).AsTask(),
                EnsureStreamAsync(new StreamConfig(_names.DeliveredStream, [_names.AllDelivered])
                {
                    Description = "Herald: one marker per delivered delivery, kept as long as its event",
                    Retention = StreamConfigRetention.Limits,
                    MaxAge = _options.Retention,
                    DuplicateWindow = TimeSpan.FromMinutes(2),
                }, started, cancellationToken).AsTask(),
                apps,
                attempts).ConfigureAwait(false);
            _apps = await apps.ConfigureAwait(false);
            _attempts = await attempts.ConfigureAwait(false);
            foreach (var bucket in new[] { _names.AppsBucket, _names.AttemptsBucket })
            {
                var name = "KV_" + bucket;
                await WaitForStreamLeaderAsync(name, "Bucket " + bucket, cancellationToken).ConfigureAwait(false);
            }

            var fanOut = await EnsureConsumerAsync(_names.EventsStream, new ConsumerConfig(_names.FanOutConsumer)
            {
                Description = "Herald: copies each event to its subscriptions' queues",
                FilterSubject = _names.AllEvents,
                AckPolicy = ConsumerConfigAckPolicy.Explicit,
                AckWait = FanOutAckWait,
                MaxDeliver = -1,
                MaxAckPending = 10_000,
            }, cancellationToken).ConfigureAwait(false);
            _fanOut = Task.Run(() => FanOutAsync(fanOut, _stopping.Token), CancellationToken.None);
            _feedReaders = Task.Run(() => FollowFeedReadersAsync(_stopping.Token), CancellationToken.None);
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException)
        {
            throw new StoreUnavailableException($"The NATS cluster at {_options.Url} cannot be used as Herald's store: {ex.Message}", ex);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// An event published with an Idempotency-Key goes on a subject of its key
    /// (<see cref="StoreNames.KeyedEvent(HeraldEvent, string)"/>), so the key's last event can be read before publishing:
    /// when it is younger than the dedupe window, it is the answer and nothing is written. Otherwise the event is
    /// published with a message id never used before, the key's hash and the sequence of the key's last event, which the
    /// stream deduplicates only against another broker publishing the same key at the same moment.
    /// <para>
    /// The key's hash alone, a message id that comes back when the window has passed, would meet nats-server 2.9's
    /// dedupe: each replica checks a message id against its own table when it applies the message, and each replica
    /// forgets ids on its own timer. A resend at the window's end could be stored by the leader and dropped as a
    /// duplicate by a follower: an event the cluster confirmed and a replica does not have, never copied by a fan-out
    /// that reads that replica (docs/operations.md).
    /// </para>
    /// </remarks>
    public async ValueTask<AppendResult> AppendAsync(HeraldEvent evt, IReadOnlyList<string> subscriptionIds, string? idempotencyKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evt);
        ArgumentNullException.ThrowIfNull(subscriptionIds);
        var headers = EventCodec.Headers(evt);
        headers[EventCodec.Subscriptions] = string.Join(',', subscriptionIds);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.PublishTimeout);
        string subject, msgId;
        PubAckResponse ack;
        try
        {
            if (idempotencyKey is null)
            {
                (subject, msgId) = (_names.Event(evt), evt.Id.ToString("N"));
            }
            else
            {
                var keyHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{evt.Account}/{evt.Workspace}/{evt.Sender}/{idempotencyKey}")));
                subject = _names.KeyedEvent(evt, keyHash);
                var last = await LastAsync(_names.EventsStream, subject, timeout.Token).ConfigureAwait(false);
                if (last is not null && _timeProvider.GetUtcNow() - last.Time < _options.DedupeWindow)
                {
                    return DuplicateOf(last);
                }

                // The key's first event gets the key's hash alone, the message id Herald gave keyed events before they had
                // a subject of their own, so a key first used before an upgrade is still deduplicated inside its window.
                msgId = last is null ? keyHash : $"{keyHash}:{last.Seq}";
            }

            ack = await _js.PublishAsync(subject, evt.Body, headers: headers, opts: new NatsJSPubOpts { MsgId = msgId }, cancellationToken: timeout.Token).ConfigureAwait(false);
            EnsureStored(ack);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new StoreUnavailableException($"The NATS cluster did not confirm the event within {_options.PublishTimeout.TotalMilliseconds:0} ms; it may still be committed. Resend with the same Idempotency-Key.", null, outcomeUnknown: true);
        }
        catch (NatsNoRespondersException ex)
        {
            throw new StoreUnavailableException("The NATS cluster has no events stream leader now (quorum lost?); nothing was stored.", ex);
        }
        catch (NatsJSApiException ex)
        {
            throw new StoreUnavailableException($"The NATS cluster refused the event: {ex.Error.Description}; nothing was stored.", ex);
        }
        catch (NatsException ex)
        {
            throw new StoreUnavailableException($"The NATS cluster did not take the event: {ex.Message}. It may still be committed; resend with the same Idempotency-Key.", ex, outcomeUnknown: true);
        }

        if (ack.Duplicate)
        {
            if (await GetAsync(_names.EventsStream, ack.Seq, cancellationToken).ConfigureAwait(false) is { } first)
            {
                return DuplicateOf(first);
            }

            // The cluster says the key made an event, but that event cannot be read yet (a cluster regaining its quorum):
            // this event's own id was never stored, so answering with it would hand out an id no event has.
            throw new StoreUnavailableException("The NATS cluster says this Idempotency-Key already made an event, but cannot show it yet. Resend with the same Idempotency-Key: a resend never makes a second event.", null, outcomeUnknown: true);
        }

        return new AppendResult(evt.Id, subscriptionIds.Count, false);
    }

    /// <summary>The answer to a publish whose Idempotency-Key made <paramref name="first"/>: its id and delivery count.</summary>
    private static AppendResult DuplicateOf(StoredMessage first)
    {
        var headers = EventCodec.ParseRaw(first.Hdrs);
        return new AppendResult(Guid.Parse(EventCodec.Get(headers, EventCodec.EventId)), EventCodec.SubscriptionIds(headers).Length, true);
    }

    /// <inheritdoc/>
    public async ValueTask<IDeliveryQueue> OpenQueueAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        var queue = new NatsDeliveryQueue(this, subscriptionId);
        if (!_queues.TryAdd(subscriptionId, queue))
        {
            throw new InvalidOperationException($"The queue of {subscriptionId} is already open in this process; a broker holds one queue per subscription.");
        }

        try
        {
            await queue.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _queues.TryRemove(new KeyValuePair<string, NatsDeliveryQueue>(subscriptionId, queue));
            throw;
        }

        return queue;
    }

    internal void QueueClosed(NatsDeliveryQueue queue) => _queues.TryRemove(new KeyValuePair<string, NatsDeliveryQueue>(queue.SubscriptionId, queue));

    /// <inheritdoc/>
    public async ValueTask SubscriptionChangedAsync(SubscriptionSpec subscription, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        await EnsureQueueConsumerAsync(subscription.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Two things a cluster does after answering are allowed for, so that what is dead-lettered is what was left
    /// undelivered. The fan-out copies events after their append has returned: the removal first waits for it
    /// (<see cref="WaitForFanOutAsync"/>). A settlement's acknowledgement is answered by the consumer's leader and
    /// takes its message off the stream only when the stream's replicas apply it, which a deleted consumer's replicas
    /// never do: a message at or below the consumer's acknowledgement floor, read before the consumer is deleted, was
    /// settled, and is deleted without a dead letter. A delivery acknowledged out of order in the moment before the
    /// removal can still be dead-lettered as well (at least once).
    /// </remarks>
    public async ValueTask<int> SubscriptionRemovedAsync(string subscriptionId, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        var token = StoreNames.Token(subscriptionId);
        await WaitForFanOutAsync(subscriptionId, cancellationToken).ConfigureAwait(false);
        if (_queues.TryGetValue(subscriptionId, out var queue))
        {
            queue.ForgetLeases();
        }

        var settledUpTo = await AcknowledgedUpToAsync(token, cancellationToken).ConfigureAwait(false);
        try
        {
            await _js.DeleteConsumerAsync(_names.DeliveriesStream, _names.Consumer(token), cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            // Never opened, or already removed.
        }

        var count = 0;
        await foreach (var stored in ReadAsync(_names.DeliveriesStream, _names.Deliveries(token), 1, cancellationToken).ConfigureAwait(false))
        {
            if (stored.Seq <= settledUpTo)
            {
                await DeleteAsync(_names.DeliveriesStream, stored.Seq, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var headers = EventCodec.ParseRaw(stored.Hdrs);
            var evt = EventCodec.Event(headers, stored.Data.ToArray());
            var attempts = await AttemptHistoryAsync(stored.Seq, cancellationToken).ConfigureAwait(false);
            await PublishDeadLetterAsync(subscriptionId, reason, attempts, evt, ParseSequence(headers), stored.Seq, cancellationToken).ConfigureAwait(false);
            await DeleteAsync(_names.DeliveriesStream, stored.Seq, cancellationToken).ConfigureAwait(false);
            await ForgetAttemptsAsync(stored.Seq, cancellationToken).ConfigureAwait(false);
            count++;
        }

        return count;
    }

    /// <summary>
    /// Waits until the fan-out has copied every event committed before this call to its subscriptions' queues: its
    /// consumer's acknowledgement floor has reached the events stream's last sequence as read here, or it has nothing
    /// left to copy.
    /// </summary>
    /// <exception cref="StoreUnavailableException">The fan-out did not get there within <see cref="FanOutCatchUpDeadline"/>.</exception>
    private async ValueTask WaitForFanOutAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        var last = (await _js.GetStreamAsync(_names.EventsStream, cancellationToken: cancellationToken).ConfigureAwait(false)).Info.State.LastSeq;
        var started = _timeProvider.GetTimestamp();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10), _timeProvider);
        while (true)
        {
            var fanOut = (await _js.GetConsumerAsync(_names.EventsStream, _names.FanOutConsumer, cancellationToken).ConfigureAwait(false)).Info;
            if (fanOut.AckFloor.StreamSeq >= last || (fanOut.NumPending == 0 && fanOut.NumAckPending == 0))
            {
                return;
            }

            if (_timeProvider.GetElapsedTime(started) > FanOutCatchUpDeadline)
            {
                throw new StoreUnavailableException($"Subscription {subscriptionId} was not removed: the NATS cluster has copied the events appended before the removal up to sequence {fanOut.AckFloor.StreamSeq} of {last} in {FanOutCatchUpDeadline.TotalSeconds:0} s, so its undelivered deliveries cannot all be found; nothing was dead-lettered. Check that a majority of the NATS servers is up and that the brokers' logs show no failed copies.");
            }

            await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The stream sequence up to which the subscription's consumer has had every message acknowledged (delivered or
    /// dead), as its leader knows it; 0 when the subscription has no consumer.
    /// </summary>
    private async ValueTask<ulong> AcknowledgedUpToAsync(string token, CancellationToken cancellationToken)
    {
        try
        {
            return (await _js.GetConsumerAsync(_names.DeliveriesStream, _names.Consumer(token), cancellationToken).ConfigureAwait(false)).Info.AckFloor.StreamSeq;
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            return 0;
        }
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyDictionary<string, DeliveryCounts>> CountAsync(IReadOnlyCollection<string> subscriptionIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscriptionIds);
        var undelivered = await SubjectCountsAsync(_names.DeliveriesStream, _names.AllDeliveries, cancellationToken).ConfigureAwait(false);
        var delivered = await SubjectCountsAsync(_names.DeliveredStream, _names.AllDelivered, cancellationToken).ConfigureAwait(false);
        var dead = await SubjectCountsAsync(_names.DeadLettersStream, _names.AllDeadLetters, cancellationToken).ConfigureAwait(false);
        var deadByToken = dead.GroupBy(d => StoreNames.LastToken(d.Key)).ToDictionary(g => g.Key, g => g.Sum(d => d.Value), StringComparer.Ordinal);
        var counts = new Dictionary<string, DeliveryCounts>(StringComparer.Ordinal);
        foreach (var id in subscriptionIds)
        {
            var token = StoreNames.Token(id);
            var queued = undelivered.GetValueOrDefault(_names.Deliveries(token));
            var inFlight = _queues.TryGetValue(id, out var queue) ? Math.Min(queue.HeldCount, queued) : 0;
            counts[id] = new DeliveryCounts(queued - inFlight, inFlight, delivered.GetValueOrDefault(_names.Delivered(token)), deadByToken.GetValueOrDefault(token));
        }

        return counts;
    }

    /// <inheritdoc/>
    /// <remarks>A subscription's queue keeps its deliveries until they are settled, in the order they were copied: the first message on its subject is the oldest.</remarks>
    public async ValueTask<IReadOnlyDictionary<string, DateTimeOffset>> OldestUndeliveredAsync(IReadOnlyCollection<string> subscriptionIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscriptionIds);
        var oldest = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var id in subscriptionIds)
        {
            await foreach (var first in ReadAsync(_names.DeliveriesStream, _names.Deliveries(StoreNames.Token(id)), 1, cancellationToken).ConfigureAwait(false))
            {
                oldest[id] = EventCodec.Event(EventCodec.ParseRaw(first.Hdrs), ReadOnlyMemory<byte>.Empty).Time;
                break;
            }
        }

        return oldest;
    }

    /// <inheritdoc/>
    public async ValueTask<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _js.GetAccountInfoAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var queue in _queues.Values)
        {
            await queue.DisposeAsync().ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var loop in new[] { _fanOut, _feedReaders })
        {
            if (loop is not null)
            {
                await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        await _connection.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    // ---- Fan-out: committed events to their subscriptions' queues ----

    private async Task FanOutAsync(INatsJSConsumer consumer, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await CopyEventsAsync(consumer, stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                Log.FanOutFailed(_logger, ex);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), _timeProvider, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Copies events to their subscriptions' queues in the order they were committed: the copies are written in order
    /// and their confirmations awaited behind them, up to <see cref="NatsStoreOptions.FanOutConcurrency"/> events at once.
    /// Each pull runs to its end (at most a second) even when the store stops, and what it brought is copied before
    /// this returns: a pull cut short would leave the server sending events to nobody, and they would wait out the
    /// ack wait before another broker copied them.
    /// </summary>
    private async Task CopyEventsAsync(INatsJSConsumer consumer, CancellationToken stopping)
    {
        var written = Channel.CreateBounded<(INatsJSMsg<ReadOnlyMemory<byte>> Event, NatsJSPublishConcurrentFuture[] Copies)>(_options.FanOutConcurrency);
        var confirming = ConfirmCopiesAsync(written.Reader);
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                await foreach (var msg in consumer.FetchAsync<ReadOnlyMemory<byte>>(FanOutPull, cancellationToken: CancellationToken.None).ConfigureAwait(false))
                {
                    var sequence = msg.Metadata?.Sequence.Stream ?? throw new InvalidDataException("An event message without JetStream metadata.");
                    var subscriptions = EventCodec.SubscriptionIds(msg.Headers);
                    var copies = new NatsJSPublishConcurrentFuture[subscriptions.Length];
                    for (var i = 0; i < subscriptions.Length; i++)
                    {
                        var token = StoreNames.Token(subscriptions[i]);
                        var headers = EventCodec.ForDelivery(EventCodec.CopyEvent(msg.Headers!), subscriptions[i], sequence);
                        copies[i] = await _js.PublishConcurrentAsync(_names.Deliveries(token), msg.Data, headers: headers, opts: new NatsJSPubOpts { MsgId = $"{sequence}:{token}" }, cancellationToken: CancellationToken.None).ConfigureAwait(false);
                    }

                    await written.Writer.WriteAsync((msg, copies), CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            written.Writer.TryComplete();
            await confirming.ConfigureAwait(false);
        }
    }

    private async Task ConfirmCopiesAsync(ChannelReader<(INatsJSMsg<ReadOnlyMemory<byte>> Event, NatsJSPublishConcurrentFuture[] Copies)> written)
    {
        await foreach (var (msg, copies) in written.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                using var timeout = new CancellationTokenSource(CopyConfirmTimeout);
                foreach (var copy in copies)
                {
                    await using (copy.ConfigureAwait(false))
                    {
                        EnsureStored(await copy.GetResponseAsync(timeout.Token).ConfigureAwait(false));
                    }
                }

                await msg.AckAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Whatever went wrong (a timeout, a lost quorum, an answer the client could not read), the event stays
                // unacknowledged and is copied again (copies are deduplicated by their message ids). Nothing may end
                // this loop early: the fan-out's pulls wait for it to take what they copied.
                Log.CopyFailed(_logger, ex);
                try
                {
                    await msg.NakAsync(new AckOpts { NakDelay = TimeSpan.FromSeconds(1) }).ConfigureAwait(false);
                }
                catch (Exception nakFailure) when (nakFailure is NatsException or ObjectDisposedException)
                {
                    // The ack wait brings it back.
                }
            }
        }
    }

    // ---- Shared helpers ----

    internal async ValueTask<INatsJSConsumer> EnsureQueueConsumerAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        var token = StoreNames.Token(subscriptionId);
        return await EnsureConsumerAsync(_names.DeliveriesStream, new ConsumerConfig(_names.Consumer(token))
        {
            Description = "Herald: deliveries of " + subscriptionId,
            FilterSubject = _names.Deliveries(token),
            AckPolicy = ConsumerConfigAckPolicy.Explicit,
            AckWait = _options.AckWait,
            MaxDeliver = -1,
            MaxAckPending = _options.MaxAckPending,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Creates or updates a consumer and checks the configuration the server kept: a server that silently drops a
    /// field (2.9 drops <c>filter_subjects</c>) would make a consumer that reads more than it should.
    /// </summary>
    private async ValueTask<INatsJSConsumer> EnsureConsumerAsync(string stream, ConsumerConfig config, CancellationToken cancellationToken)
    {
        INatsJSConsumer consumer;
        var started = _timeProvider.GetTimestamp();
        while (true)
        {
            try
            {
                consumer = await _js.CreateOrUpdateConsumerAsync(stream, config, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (NatsJSApiException ex) when (ex.Error.Code == 503 && _timeProvider.GetElapsedTime(started) < LeaderDeadline)
            {
                // JetStream is "temporarily unavailable" just after a cluster regains its quorum: asked again.
                await Task.Delay(TimeSpan.FromMilliseconds(100), _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (NatsJSApiNoResponseException) when (_timeProvider.GetElapsedTime(started) < LeaderDeadline)
            {
                // No answer within the request timeout (a server starved of CPU answers late): asked again.
                Log.RequestUnanswered(_logger, "Consumer " + config.Name, _options.Url);
            }
        }

        var kept = consumer.Info.Config;
        if (kept.FilterSubject != config.FilterSubject || kept.AckPolicy != config.AckPolicy)
        {
            throw new StoreUnavailableException($"The NATS server (version {_connection.ServerInfo?.Version}) created consumer {config.Name} with filter '{kept.FilterSubject}' and ack policy {kept.AckPolicy}, not '{config.FilterSubject}' and {config.AckPolicy}; Herald will not read deliveries through it. Use nats-server 2.9.10 or later.");
        }

        if (string.IsNullOrEmpty(consumer.Info.Cluster?.Leader))
        {
            await WaitForLeaderAsync(async ct => (await _js.GetConsumerAsync(stream, config.Name!, ct).ConfigureAwait(false)).Info.Cluster, "Consumer " + config.Name, cancellationToken).ConfigureAwait(false);
        }

        return consumer;
    }

    private async ValueTask EnsureStreamAsync(StreamConfig config, long started, CancellationToken cancellationToken)
    {
        config.NumReplicas = _options.Replicas;
        config.Storage = StreamConfigStorage.File;
        config.Discard = StreamConfigDiscard.New;
        if (_server.HasStreamCompression)
        {
            config.Compression = StreamConfigCompression.S2;
        }

        var stream = await AskUntilAnsweredAsync(ct => _js.CreateOrUpdateStreamAsync(config, ct), "Stream " + config.Name, started, cancellationToken).ConfigureAwait(false);
        var kept = stream.Info.Config;
        if (kept.Retention != config.Retention || kept.NumReplicas != config.NumReplicas)
        {
            throw new StoreUnavailableException($"The NATS server keeps stream {config.Name} with retention {kept.Retention} at R{kept.NumReplicas}, not {config.Retention} at R{config.NumReplicas}; delete the stream or use the configuration it was made with.");
        }

        await WaitForStreamLeaderAsync(config.Name!, "Stream " + config.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes a start-up request of JetStream's API, asking again while it gets no answer within the request timeout, until
    /// <see cref="StartupDeadline"/> from <paramref name="started"/>; then the last failure is the start's.
    /// </summary>
    private async Task<T> AskUntilAnsweredAsync<T>(Func<CancellationToken, ValueTask<T>> ask, string what, long started, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await ask(cancellationToken).ConfigureAwait(false);
            }
            catch (NatsJSApiNoResponseException) when (_timeProvider.GetElapsedTime(started) < StartupDeadline)
            {
                Log.RequestUnanswered(_logger, what, _options.Url);
            }
        }
    }

    private ValueTask WaitForStreamLeaderAsync(string stream, string what, CancellationToken cancellationToken) =>
        WaitForLeaderAsync(async ct => (await _js.GetStreamAsync(stream, cancellationToken: ct).ConfigureAwait(false)).Info.Cluster, what, cancellationToken);

    /// <summary>
    /// Waits until a replicated stream or consumer has elected its leader: until then the cluster answers nothing
    /// sent to it (a publish or a pull would wait out its timeout), so the store is ready only after.
    /// </summary>
    private async ValueTask WaitForLeaderAsync(Func<CancellationToken, Task<ClusterInfo?>> probe, string what, CancellationToken cancellationToken)
    {
        if (_options.Replicas == 1)
        {
            return;
        }

        var started = _timeProvider.GetTimestamp();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50), _timeProvider);
        while (string.IsNullOrEmpty((await ProbeAsync().ConfigureAwait(false))?.Leader))
        {
            if (_timeProvider.GetElapsedTime(started) > LeaderDeadline)
            {
                throw new StoreUnavailableException($"{what} has no leader on the NATS cluster {LeaderDeadline.TotalSeconds:0} s after it was made; check that a majority of its servers is up.");
            }

            await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
        }

        // Just after a cluster regains its quorum, JetStream answers "temporarily unavailable" (503) for a while: not
        // a leader yet, so asked again until the deadline.
        async Task<ClusterInfo?> ProbeAsync()
        {
            try
            {
                return await probe(cancellationToken).ConfigureAwait(false);
            }
            catch (NatsJSApiException ex) when (ex.Error.Code == 503)
            {
                return null;
            }
            catch (NatsNoRespondersException)
            {
                return null;
            }
            catch (NatsJSApiNoResponseException)
            {
                return null;
            }
        }
    }

    internal ValueTask<StoredMessage?> GetAsync(string stream, ulong sequence, CancellationToken cancellationToken) =>
        MessageAsync(stream, new StreamMsgGetRequest { Seq = sequence }, cancellationToken);

    /// <summary>The last message of <paramref name="stream"/> on <paramref name="subject"/>, read from the stream's leader; null when there is none.</summary>
    internal ValueTask<StoredMessage?> LastAsync(string stream, string subject, CancellationToken cancellationToken) =>
        MessageAsync(stream, new StreamMsgGetRequest { LastBySubj = subject }, cancellationToken);

    /// <summary>The message of <paramref name="stream"/> that <paramref name="request"/> names, read from the stream's leader; null when there is none.</summary>
    private async ValueTask<StoredMessage?> MessageAsync(string stream, StreamMsgGetRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _js.JSRequestResponseAsync<StreamMsgGetRequest, StreamMsgGetResponse>($"$JS.API.STREAM.MSG.GET.{stream}", request, cancellationToken).ConfigureAwait(false);
            return response.Message;
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            return null;
        }
    }

    /// <summary>Every message of <paramref name="stream"/> on <paramref name="subject"/> (wildcards allowed) from <paramref name="from"/> on, oldest first.</summary>
    internal async IAsyncEnumerable<StoredMessage> ReadAsync(string stream, string subject, ulong from, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var next = Math.Max(from, 1);
        while (true)
        {
            StoredMessage message;
            try
            {
                var response = await _js.JSRequestResponseAsync<StreamMsgGetRequest, StreamMsgGetResponse>($"$JS.API.STREAM.MSG.GET.{stream}", new StreamMsgGetRequest { Seq = next, NextBySubj = subject }, cancellationToken).ConfigureAwait(false);
                message = response.Message;
            }
            catch (NatsJSApiException ex) when (ex.Error.Code == 404)
            {
                yield break;
            }

            yield return message;
            next = message.Seq + 1;
        }
    }

    internal async ValueTask<bool> DeleteAsync(string stream, ulong sequence, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _js.DeleteMessageAsync(stream, new StreamMsgDeleteRequest { Seq = sequence, NoErase = true }, cancellationToken).ConfigureAwait(false);
            return response.Success;
        }
        catch (NatsJSApiException ex) when (ex.Error.Code is 404 or 400)
        {
            return false;
        }
    }

    private async ValueTask<Dictionary<string, long>> SubjectCountsAsync(string stream, string filter, CancellationToken cancellationToken)
    {
        var info = await _js.GetStreamAsync(stream, new StreamInfoRequest { SubjectsFilter = filter }, cancellationToken).ConfigureAwait(false);
        return info.Info.State.Subjects is { } subjects ? new Dictionary<string, long>(subjects, StringComparer.Ordinal) : new Dictionary<string, long>(StringComparer.Ordinal);
    }

    internal static ulong ParseSequence(NatsHeaders headers) =>
        ulong.TryParse(EventCodec.Get(headers, EventCodec.EventSequence), System.Globalization.CultureInfo.InvariantCulture, out var sequence) ? sequence : 0;

    /// <summary>The attempts recorded for a delivery, read from the bucket's stream leader (<see cref="LatestValueAsync"/>).</summary>
    internal async ValueTask<List<AttemptRecord>> AttemptHistoryAsync(ulong deliverySequence, CancellationToken cancellationToken) =>
        await LatestValueAsync(_names.AttemptsBucket, AttemptsKey(deliverySequence), cancellationToken).ConfigureAwait(false) is { Length: > 0 } json
            ? StoreJson.Deserialize<List<AttemptRecord>>(json.Span)
            : [];

    /// <summary>
    /// The value of <paramref name="key"/> in the KV bucket <paramref name="bucket"/>, read from the bucket's stream
    /// leader; null when the key has none or was deleted. A KV get may be answered by any replica, and nats-server 2.9
    /// lets a follower that has fallen behind go on answering, with a value older than the last put or delete.
    /// </summary>
    internal async ValueTask<ReadOnlyMemory<byte>?> LatestValueAsync(string bucket, string key, CancellationToken cancellationToken)
    {
        var last = await LastAsync("KV_" + bucket, "$KV." + bucket + "." + key, cancellationToken).ConfigureAwait(false);
        if (last is null || (EventCodec.ParseRaw(last.Hdrs) is { } headers && headers.TryGetValue("KV-Operation", out var operation) && operation.ToString() is "DEL" or "PURGE"))
        {
            return null;
        }

        return last.Data;
    }

    internal async ValueTask RecordAttemptsAsync(ulong deliverySequence, List<AttemptRecord> attempts, CancellationToken cancellationToken) =>
        await Attempts.PutAsync(AttemptsKey(deliverySequence), StoreJson.Serialize(attempts), cancellationToken: cancellationToken).ConfigureAwait(false);

    internal async ValueTask ForgetAttemptsAsync(ulong deliverySequence, CancellationToken cancellationToken) =>
        await Attempts.PurgeAsync(AttemptsKey(deliverySequence), cancellationToken: cancellationToken).ConfigureAwait(false);

    private static string AttemptsKey(ulong deliverySequence) => deliverySequence.ToString(System.Globalization.CultureInfo.InvariantCulture);

    internal async ValueTask PublishDeadLetterAsync(string subscriptionId, string reason, IReadOnlyList<AttemptRecord> attempts, HeraldEvent evt, ulong eventSequence, ulong deliverySequence, CancellationToken cancellationToken)
    {
        var document = DeadLetterDocument.Of(subscriptionId, reason, _timeProvider.GetUtcNow(), attempts, evt, eventSequence);
        var headers = new NatsHeaders { [EventCodec.EventId] = evt.Id.ToString("D") };
        var ack = await _js.PublishAsync(_names.DeadLetters(evt.Account, evt.Workspace, StoreNames.Token(subscriptionId)), StoreJson.Serialize(document), headers: headers,
            opts: new NatsJSPubOpts { MsgId = $"dead:{deliverySequence}" }, cancellationToken: cancellationToken).ConfigureAwait(false);
        EnsureStored(ack);
    }

    /// <summary>Puts a copy of <paramref name="evt"/> on a subscription's queue, as a new delivery with a fresh attempt count.</summary>
    internal async ValueTask EnqueueAsync(string subscriptionId, HeraldEvent evt, ulong eventSequence, string msgId, CancellationToken cancellationToken)
    {
        var headers = EventCodec.ForDelivery(EventCodec.Headers(evt), subscriptionId, eventSequence);
        var ack = await _js.PublishAsync(_names.Deliveries(StoreNames.Token(subscriptionId)), evt.Body, headers: headers, opts: new NatsJSPubOpts { MsgId = msgId }, cancellationToken: cancellationToken).ConfigureAwait(false);
        EnsureStored(ack);
    }

    /// <summary>Throws unless the stream stored the message, now or before (a duplicate of a message id it already has).</summary>
    internal static void EnsureStored(PubAckResponse ack)
    {
        if (!ack.Duplicate)
        {
            ack.EnsureSuccess();
        }
    }

    private static InvalidOperationException NotInitialised() => new("The NATS store is not initialised; call InitializeAsync first.");

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Copying events to their subscriptions' queues failed; retrying in 1 s")]
        public static partial void FanOutFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "An event could not be copied to its subscriptions' queues; it is copied again in 1 s")]
        public static partial void CopyFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "The watch of the app registry was interrupted; it goes on from where it was")]
        public static partial void WatchInterrupted(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Following the other brokers' feed readers was interrupted; it starts again in 1 s")]
        public static partial void FeedReadersLost(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "The watch of the app registry expected its message {Expected} and got {Got}; it reads again from the last one it had")]
        public static partial void WatchSkipped(ILogger logger, ulong expected, ulong got);

        [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "Connected to nats-server {Version} at {Url}")]
        public static partial void Connected(ILogger logger, string? version, string url);

        [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "{What}: the NATS cluster at {Url} did not answer in time; asking again")]
        public static partial void RequestUnanswered(ILogger logger, string what, string url);
    }
}
