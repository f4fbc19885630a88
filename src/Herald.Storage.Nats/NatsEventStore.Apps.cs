using System.Runtime.CompilerServices;
using Herald.Storage.Nats.Internal;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;

namespace Herald.Storage.Nats;

// The registry: one key per app, {account}.{workspace}.{sender}, in the apps bucket; a watch of the bucket tells every
// broker of each link and unlink.
public sealed partial class NatsEventStore
{
    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<StoredApp>> LoadAppsAsync(CancellationToken cancellationToken = default)
    {
        var apps = new List<StoredApp>();
        try
        {
            await foreach (var key in Apps.GetKeysAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                // From the leader: the watch that follows this load starts now, so a value older than the last save
                // would stay until the app changes again.
                if (await LatestValueAsync(_names.AppsBucket, key, cancellationToken).ConfigureAwait(false) is { Length: > 0 } json)
                {
                    apps.Add(StoreJson.Deserialize<StoredApp>(json.Span));
                }
            }
        }
        catch (NatsKVException ex) when (ex.Message.Contains("no keys", StringComparison.OrdinalIgnoreCase))
        {
            // An empty bucket.
        }

        return apps;
    }

    /// <inheritdoc/>
    public async ValueTask SaveAppAsync(StoredApp app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        await Apps.PutAsync(AppKey(app.Account, app.Workspace, app.Sender), StoreJson.Serialize(app), cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask<bool> DeleteAppAsync(string account, string workspace, string sender, CancellationToken cancellationToken = default)
    {
        var key = AppKey(account, workspace, sender);
        if (await LatestValueAsync(_names.AppsBucket, key, cancellationToken).ConfigureAwait(false) is null)
        {
            return false;
        }

        await Apps.DeleteAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The watch reads the bucket's stream through a consumer of its own that starts at the time of this call (not
    /// when the enumeration starts, so a change made between the call and the first read is not missed: a broker
    /// calls this, reads the whole registry, then follows), in short pulls, and follows the sequence it reached. The
    /// consumer numbers what it sends: a number skipped means a message was lost on the way (a pull that ended while
    /// the server was still sending), and a consumer the server dropped (a node restart) fails the next pull; either way
    /// a new consumer is made from where the watch was. The start is by the broker's clock against the servers'
    /// message times, so keep the clocks synchronised (NTP), as for any cluster.
    /// </remarks>
    public IAsyncEnumerable<AppChange> WatchAsync(CancellationToken cancellationToken = default) =>
        WatchSinceAsync(_timeProvider.GetUtcNow(), cancellationToken);

    private async IAsyncEnumerable<AppChange> WatchSinceAsync(DateTimeOffset since, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var stream = "KV_" + _names.AppsBucket;
        var subjects = "$KV." + _names.AppsBucket + ".";
        string? name = null;
        ulong reached = 0;
        ulong sent = 0;
        INatsJSConsumer? consumer = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var changes = new List<AppChange>();
                try
                {
                    if (consumer is null)
                    {
                        await ForgetWatchConsumerAsync(stream, name).ConfigureAwait(false);
                        name = $"{_names.AppsBucket}-watch-{Guid.NewGuid():N}";
                        sent = 0;
                        var config = new ConsumerConfig(name)
                        {
                            FilterSubject = subjects + ">",
                            AckPolicy = ConsumerConfigAckPolicy.None,
                            MemStorage = true,
                            NumReplicas = 1,
                            InactiveThreshold = TimeSpan.FromMinutes(1),
                        };
                        if (reached == 0)
                        {
                            config.DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartTime;
                            config.OptStartTime = since;
                        }
                        else
                        {
                            config.DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence;
                            config.OptStartSeq = reached + 1;
                        }

                        consumer = await _js.CreateOrUpdateConsumerAsync(stream, config, cancellationToken).ConfigureAwait(false);
                    }
                    await foreach (var msg in consumer.FetchAsync<byte[]>(WatchPull, cancellationToken: cancellationToken).ConfigureAwait(false))
                    {
                        var numbered = msg.Metadata?.Sequence ?? throw new InvalidDataException("A registry message without JetStream metadata.");
                        if (numbered.Consumer != sent + 1)
                        {
                            // A message before this one never arrived: read again from the last one that did.
                            Log.WatchSkipped(_logger, sent + 1, numbered.Consumer);
                            consumer = null;
                            break;
                        }

                        sent = numbered.Consumer;
                        reached = numbered.Stream;
                        var parts = msg.Subject[subjects.Length..].Split('.', 3);
                        if (parts.Length != 3)
                        {
                            continue;
                        }

                        var deleted = msg.Headers is { } headers && headers.TryGetValue("KV-Operation", out var operation) && operation.ToString() is "DEL" or "PURGE";
                        changes.Add(!deleted && msg.Data is { Length: > 0 } json
                            ? new AppChange(parts[0], parts[1], parts[2], StoreJson.Deserialize<StoredApp>(json))
                            : new AppChange(parts[0], parts[1], parts[2], null));
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    yield break;
                }
                catch (NatsException ex)
                {
                    // The consumer is gone or the cluster is away: make it again from where the watch was.
                    Log.WatchInterrupted(_logger, ex);
                    consumer = null;
                }

                foreach (var change in changes)
                {
                    yield return change;
                }

                if (consumer is null)
                {
                    try
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(250), _timeProvider, cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        yield break;
                    }
                }
            }
        }
        finally
        {
            await ForgetWatchConsumerAsync(stream, name).ConfigureAwait(false);
        }
    }

    private async ValueTask ForgetWatchConsumerAsync(string stream, string? name)
    {
        if (name is null)
        {
            return;
        }

        try
        {
            await _js.DeleteConsumerAsync(stream, name, CancellationToken.None).ConfigureAwait(false);
        }
        catch (NatsException)
        {
            // It goes by itself after a minute without pulls.
        }
    }

    /// <summary>
    /// How many revisions of each app the apps bucket keeps (the most a NATS bucket can): a watch reports a save as long
    /// as fewer than this many later saves of the same app were made before it read it.
    /// </summary>
    internal const int AppRevisionsKept = 64;

    /// <summary>
    /// A pull of the watch, without idle heartbeats (see the fan-out's pull in <c>NatsEventStore</c>). A save made between
    /// two pulls waits in the bucket for the next one (see <see cref="AppRevisionsKept"/>).
    /// </summary>
    private static readonly NatsJSFetchOpts WatchPull = new() { MaxMsgs = 256, Expires = TimeSpan.FromSeconds(5), IdleHeartbeat = TimeSpan.Zero };

    private static string AppKey(string account, string workspace, string sender) => $"{account}.{workspace}.{sender}";
}
