namespace Herald.Storage.Compliance;

/// <summary>
/// An open store under test: the storage interfaces of one instance, as one broker process sees them.
/// <see cref="Retention"/> is <c>null</c> for a store without that optional ability; such a store binds neither
/// <see cref="ReplayTests"/> nor <see cref="PruningTests"/>.
/// </summary>
public sealed class StoreHandle(IEventStore events, IAppStore apps, IDeadLetterStore deadLetters, IRetentionStore? retention, Func<ValueTask> close) : IAsyncDisposable
{
    public IEventStore Events { get; } = events;

    public IAppStore Apps { get; } = apps;

    public IDeadLetterStore DeadLetters { get; } = deadLetters;

    public IRetentionStore? Retention { get; } = retention;

    public ValueTask DisposeAsync() => close();
}

/// <summary>The store configuration a test needs; everything else is the binding's choice.</summary>
public sealed record StoreFactoryOptions
{
    /// <summary>What most tests run with: a dedupe window far longer than any test.</summary>
    public static StoreFactoryOptions Default { get; } = new();

    /// <summary>How long an idempotency key is remembered per (account, workspace, sender). <value>10 minutes</value></summary>
    public TimeSpan DedupeWindow { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// Opens a store over one location (a file, a stream prefix...) with one configuration. Opening again after closing
/// reopens the same data with the same configuration, as a broker restart does.
/// </summary>
public interface IStoreFactory : IAsyncDisposable
{
    /// <summary>Opens the store and initialises it (<see cref="IEventStore.InitializeAsync"/>).</summary>
    ValueTask<StoreHandle> OpenAsync(CancellationToken cancellationToken = default);
}
