using Herald.Broker.Internal;

namespace Herald.Broker.Tests;

public sealed class RandomIdsTests
{
    [Fact]
    public void NewVersion7_IsAUuidV7OfItsTime_AsGuidCreateVersion7LaysItOut()
    {
        var time = new DateTimeOffset(2026, 12, 7, 6, 0, 0, 123, TimeSpan.Zero);

        var id = RandomIds.NewVersion7(time);
        var reference = Guid.CreateVersion7(time);

        Assert.Equal(7, id.Version);
        Assert.Equal(reference.Version, id.Version);
        // RFC 9562's variant is the bits 10 at the top of the ninth byte; the two bits after them are random, so the
        // nibble Guid.Variant shows is 8 to 11, in this id as in the framework's.
        for (var i = 0; i < 256; i++)
        {
            Assert.Equal(0b1000, RandomIds.NewVersion7(time).Variant & 0b1100);
        }

        Assert.Equal(0b1000, reference.Variant & 0b1100);
        // The first 48 bits are the Unix milliseconds: the text's first 12 hex digits match the framework's.
        Assert.Equal(reference.ToString()[..13], id.ToString()[..13]);
        Assert.Equal(time.ToUnixTimeMilliseconds(), Convert.ToInt64(id.ToString("N")[..12], 16));
    }

    [Fact]
    public void NewVersion7_OrdersByTime_AndNeverRepeatsAcrossThreads()
    {
        var earlier = RandomIds.NewVersion7(DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000));
        var later = RandomIds.NewVersion7(DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_001));
        Assert.True(string.CompareOrdinal(earlier.ToString(), later.ToString()) < 0);

        var time = DateTimeOffset.UtcNow;
        var ids = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        Parallel.For(0, 4, _ =>
        {
            for (var i = 0; i < 5_000; i++)
            {
                ids.Add(RandomIds.NewVersion7(time));
            }
        });

        Assert.Equal(20_000, ids.Distinct().Count());
    }

    [Fact]
    public void NewHex128_Is32LowercaseHexDigits_AndNeverRepeats()
    {
        var ids = Enumerable.Range(0, 10_000).Select(_ => RandomIds.NewHex128()).ToList();

        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{32}$", id));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void NewVersion7_RefusesATimeBeforeTheUnixEpoch()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RandomIds.NewVersion7(DateTimeOffset.UnixEpoch.AddMilliseconds(-1)));
    }
}
