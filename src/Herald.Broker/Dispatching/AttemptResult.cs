namespace Herald.Broker.Dispatching;

/// <summary>What happened on the wire in one attempt.</summary>
/// <param name="Status">The app's HTTP status, when it answered.</param>
/// <param name="Error">Why it failed: a timeout, a network error, or the app's problem detail.</param>
/// <param name="RetryAfter">The app's <c>Retry-After</c>, when it gave one.</param>
/// <param name="StartedAt">When the attempt started.</param>
/// <param name="Duration">How long it took.</param>
internal sealed record AttemptResult(int? Status, string? Error, TimeSpan? RetryAfter, DateTimeOffset StartedAt, TimeSpan Duration)
{
    /// <summary>Whether the app took the event (2xx).</summary>
    public bool Succeeded => Status is >= 200 and < 300;
}
