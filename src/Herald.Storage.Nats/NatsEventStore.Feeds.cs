using System.Runtime.CompilerServices;
using NATS.Client.Core;

namespace Herald.Storage.Nats;

/// <summary>
/// The feed relay: plain NATS messages (no stream keeps them) on <c>{root}.feed.{feed}</c>, each marked with the
/// sending store's instance, so that a broker leaves out its own batches.
/// </summary>
public sealed partial class NatsEventStore : IFeedRelay
{
    private const string OriginHeader = "Herald-Origin";

    private readonly string _instance = Guid.NewGuid().ToString("N");

    /// <inheritdoc/>
    public async ValueTask SendAsync(string feed, ReadOnlyMemory<byte> batch, CancellationToken cancellationToken = default)
    {
        CheckFeedName(feed);
        var headers = new NatsHeaders { [OriginHeader] = _instance };
        await _connection.PublishAsync(_names.Feed(feed), batch, headers, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReceiveAsync(string feed, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        CheckFeedName(feed);
        await foreach (var msg in _connection.SubscribeAsync<ReadOnlyMemory<byte>>(_names.Feed(feed), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (msg.Headers is { } headers && headers.TryGetValue(OriginHeader, out var origin) && origin == _instance)
            {
                continue;
            }

            yield return msg.Data;
        }
    }

    private static void CheckFeedName(string feed)
    {
        ArgumentException.ThrowIfNullOrEmpty(feed);
        if (feed.AsSpan().IndexOfAny(". *>\t\r\n") >= 0)
        {
            throw new ArgumentException($"A feed's name is one subject token (letters, digits, '-' or '_'); found '{feed}'.", nameof(feed));
        }
    }
}
