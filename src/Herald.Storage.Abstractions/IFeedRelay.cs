namespace Herald.Storage;

/// <summary>
/// Carries what the live feeds show (the tail of published events, and delivery activity) between the brokers that
/// share a store, so a feed read from any broker shows what passed through every broker. Best effort and unrecorded,
/// like the feeds themselves: a broker that is down, cut off or slow misses items. A store that several brokers can
/// share implements it; the broker relays nothing when its store does not.
/// </summary>
public interface IFeedRelay
{
    /// <summary>
    /// Sends one batch of <paramref name="feed"/>'s items (opaque bytes) to the other brokers on the store; returns
    /// once the batch is handed to the transport, without waiting for anyone to read it.
    /// </summary>
    ValueTask SendAsync(string feed, ReadOnlyMemory<byte> batch, CancellationToken cancellationToken = default);

    /// <summary>
    /// Every batch the other brokers on the store send on <paramref name="feed"/> from now on (this store's own are
    /// left out), until <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    IAsyncEnumerable<ReadOnlyMemory<byte>> ReceiveAsync(string feed, CancellationToken cancellationToken = default);
}
