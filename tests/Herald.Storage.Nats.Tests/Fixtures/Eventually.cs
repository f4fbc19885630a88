using System.Collections;
using System.Diagnostics;

namespace Herald.Storage.Nats.Tests.Fixtures;

/// <summary>Waiting for a cluster to reach a state: polls every 50 ms and fails with the last value after a deadline.</summary>
internal static class Eventually
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Polls <paramref name="probe"/> until <paramref name="condition"/> holds of its value and returns that value; fails
    /// after <paramref name="patience"/>, naming <paramref name="what"/> was awaited and the last value seen.
    /// </summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, string what, TimeSpan patience)
    {
        var elapsed = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(Period);
        while (true)
        {
            var last = await probe();
            if (condition(last))
            {
                return last;
            }

            if (elapsed.Elapsed > patience)
            {
                Assert.Fail($"Timed out after {patience.TotalSeconds} s waiting for {what}; last value: {Format(last)}.");
            }

            await timer.WaitForNextTickAsync();
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails after <paramref name="patience"/>, naming <paramref name="what"/>.</summary>
    public static Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan patience) => ValueAsync(condition, held => held, what, patience);

    private static string Format<T>(T value) =>
        value is IEnumerable items and not string ? "[" + string.Join(", ", items.Cast<object?>()) + "]" : value?.ToString() ?? "null";
}
