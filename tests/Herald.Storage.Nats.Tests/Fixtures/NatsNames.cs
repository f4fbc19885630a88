using System.Globalization;

namespace Herald.Storage.Nats.Tests.Fixtures;

/// <summary>Name prefixes that let many tests share one server: each call gives a new one ("T1_", "T2_", ...).</summary>
public static class NatsNames
{
    private static int s_last;

    /// <summary>A prefix no other caller in this test run gets; safe to call from any thread.</summary>
    public static string NextPrefix() =>
        string.Create(CultureInfo.InvariantCulture, $"T{Interlocked.Increment(ref s_last)}_");
}
