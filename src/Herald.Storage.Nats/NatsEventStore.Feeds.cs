using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Herald.Storage.Nats.Internal;
using NATS.Client.Core;

namespace Herald.Storage.Nats;

/// <summary>
/// The feed relay: plain NATS messages (no stream keeps them) on <c>{root}.feed.{feed}</c>, each marked with the
/// sending store's instance, so that a broker leaves out its own batches; readers are announced on
/// <c>{root}.feed-readers.{feed}</c>, which every store follows from its start.
/// </summary>
public sealed partial class NatsEventStore : IFeedRelay
{
    private const string OriginHeader = "Herald-Origin";

    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly ConcurrentDictionary<string, long> _remoteReadersAt = new(StringComparer.Ordinal);
    private Task? _feedReaders;

    /// <inheritdoc/>
    public async ValueTask AnnounceReadersAsync(string feed, CancellationToken cancellationToken = default)
    {
        CheckFeedName(feed);
        await _connection.PublishAsync(_names.FeedReaders(feed), ReadOnlyMemory<byte>.Empty, Origin(), cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public bool HasRemoteReaders(string feed) =>
        _remoteReadersAt.TryGetValue(feed, out var at) && _timeProvider.GetElapsedTime(at) < 3 * IFeedRelay.AnnounceInterval;

    /// <inheritdoc/>
    public async ValueTask SendAsync(string feed, ReadOnlyMemory<byte> batch, CancellationToken cancellationToken = default)
    {
        CheckFeedName(feed);
        await _connection.PublishAsync(_names.Feed(feed), batch, Origin(), cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReceiveAsync(string feed, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        CheckFeedName(feed);
        await foreach (var msg in _connection.SubscribeAsync<ReadOnlyMemory<byte>>(_names.Feed(feed), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (!IsOwn(msg.Headers))
            {
                yield return msg.Data;
            }
        }
    }

    /// <summary>Follows the other stores' reader announcements until the store stops; a failed subscription is made again.</summary>
    private async Task FollowFeedReadersAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var msg in _connection.SubscribeAsync<ReadOnlyMemory<byte>>(_names.FeedReaders("*"), cancellationToken: cancellationToken).ConfigureAwait(false))
                {
                    if (!IsOwn(msg.Headers))
                    {
                        _remoteReadersAt[StoreNames.LastToken(msg.Subject)] = _timeProvider.GetTimestamp();
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (NatsException ex)
            {
                Log.FeedReadersLost(_logger, ex);
                try
                {
                    await Task.Delay(IFeedRelay.AnnounceInterval, _timeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private NatsHeaders Origin() => new() { [OriginHeader] = _instance };

    private bool IsOwn(NatsHeaders? headers) => headers is not null && headers.TryGetValue(OriginHeader, out var origin) && origin == _instance;

    private static void CheckFeedName(string feed)
    {
        ArgumentException.ThrowIfNullOrEmpty(feed);
        if (feed.AsSpan().IndexOfAny(". *>\t\r\n") >= 0)
        {
            throw new ArgumentException($"A feed's name is one subject token (letters, digits, '-' or '_'); found '{feed}'.", nameof(feed));
        }
    }
}
