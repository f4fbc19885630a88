using System.Security.Cryptography;

namespace Herald.Broker.Internal;

/// <summary>
/// The broker's random ids: event ids (UUIDv7, RFC 9562) and per-attempt request ids. Both draw on the operating
/// system's secure random generator, as <see cref="Guid.NewGuid"/> does, but each thread takes its bytes 512 at a time:
/// <see cref="Guid.NewGuid"/> makes one system call per id, which showed in the broker's profile at full speed.
/// </summary>
internal static class RandomIds
{
    private const int BufferSize = 512;

    [ThreadStatic]
    private static byte[]? t_buffer;

    [ThreadStatic]
    private static int t_used;

    /// <summary>
    /// A UUIDv7 for <paramref name="time"/>: its Unix milliseconds in the first 48 bits, then the version (7), 12 random
    /// bits, the variant (10) and 62 random bits, laid out as <see cref="Guid.CreateVersion7(DateTimeOffset)"/> lays it out.
    /// </summary>
    public static Guid NewVersion7(DateTimeOffset time)
    {
        var ms = time.ToUnixTimeMilliseconds();
        ArgumentOutOfRangeException.ThrowIfNegative(ms, nameof(time));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ms, 0x0000_FFFF_FFFF_FFFFL, nameof(time));
        var r = Take(10);
        return new Guid(
            (int)(ms >> 16),
            (short)ms,
            (short)(((r[0] << 8) | r[1]) & 0x0FFF | 0x7000),
            (byte)((r[2] & 0x3F) | 0x80),
            r[3], r[4], r[5], r[6], r[7], r[8], r[9]);
    }

    /// <summary>128 random bits as 32 lowercase hex digits (the form of <c>Guid.NewGuid().ToString("N")</c>, without its fixed version bits).</summary>
    public static string NewHex128() => Convert.ToHexStringLower(Take(16));

    private static ReadOnlySpan<byte> Take(int count)
    {
        var buffer = t_buffer ??= new byte[BufferSize];
        if (t_used == 0 || t_used + count > BufferSize)
        {
            RandomNumberGenerator.Fill(buffer);
            t_used = 0;
        }

        var taken = buffer.AsSpan(t_used, count);
        t_used += count;
        return taken;
    }
}
