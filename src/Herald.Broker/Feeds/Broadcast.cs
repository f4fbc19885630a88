using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Herald.Broker.Feeds;

/// <summary>
/// An in-memory fan-out to live readers (tail and activity streams). Each reader has a bounded channel; a reader
/// that falls behind loses its oldest items and never slows the writer.
/// </summary>
internal sealed class Broadcast<T>
{
    /// <summary>How many items a slow reader may fall behind by before it loses the oldest.</summary>
    public const int ReaderCapacity = 1024;

    private readonly ConcurrentDictionary<Channel<T>, Func<T, bool>> _readers = new();

    // Kept beside the dictionary so that a write with no reader (the usual case) costs one read, no enumerator.
    private int _readerCount;

    /// <summary>How many readers there are now.</summary>
    public int ReaderCount => Volatile.Read(ref _readerCount);

    /// <summary>Whether anyone reads: a writer may skip making an item nobody would see.</summary>
    public bool HasReaders => ReaderCount > 0;

    /// <summary>Sends <paramref name="item"/> to every reader whose filter takes it.</summary>
    public void Write(T item)
    {
        if (!HasReaders)
        {
            return;
        }

        foreach (var (channel, filter) in _readers)
        {
            if (filter(item))
            {
                channel.Writer.TryWrite(item);
            }
        }
    }

    /// <summary>Starts a reader at once: it sees every item written from now on that passes <paramref name="filter"/>.</summary>
    public Reader Subscribe(Func<T, bool> filter)
    {
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(ReaderCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        _readers[channel] = filter;
        Interlocked.Increment(ref _readerCount);
        return new Reader(this, channel);
    }

    /// <summary>A live reader; dispose it to stop.</summary>
    public sealed class Reader : IDisposable
    {
        private readonly Broadcast<T> _owner;
        private readonly Channel<T> _channel;

        internal Reader(Broadcast<T> owner, Channel<T> channel)
        {
            _owner = owner;
            _channel = channel;
        }

        /// <summary>The reader's items.</summary>
        public ChannelReader<T> Items => _channel.Reader;

        /// <inheritdoc/>
        public void Dispose()
        {
            if (_owner._readers.TryRemove(_channel, out _))
            {
                Interlocked.Decrement(ref _owner._readerCount);
            }
        }
    }
}
