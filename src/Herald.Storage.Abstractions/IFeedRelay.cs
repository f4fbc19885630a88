namespace Herald.Storage;

/// <summary>
/// Carries what the live feeds show (the tail of published events, and delivery activity) between the brokers that
/// share a store, so a feed read from any broker shows what passed through every broker. Best effort and unrecorded,
/// like the feeds themselves: a broker that is down, cut off or slow misses items. Nothing is sent while no other
/// broker has a reader: a broker with readers of a feed says so every second (<see cref="AnnounceReadersAsync"/>),
/// and the others send that feed while they have heard so lately (<see cref="HasRemoteReaders"/>). A store that
/// several brokers can share implements it; the broker relays nothing when its store does not.
/// </summary>
public interface IFeedRelay
{
    /// <summary>How often a broker with readers of a feed announces them; an announcement counts for three times this.</summary>
    static TimeSpan AnnounceInterval => TimeSpan.FromSeconds(1);

    /// <summary>Tells the other brokers on the store that this broker has readers of <paramref name="feed"/> now.</summary>
    ValueTask AnnounceReadersAsync(string feed, CancellationToken cancellationToken = default);

    /// <summary>Whether another broker on the store announced readers of <paramref name="feed"/> lately.</summary>
    bool HasRemoteReaders(string feed);

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
