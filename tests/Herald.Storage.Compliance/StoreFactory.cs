using Herald.Broker.Storage;

namespace Herald.Storage.Compliance;

/// <summary>An open store under test: the three storage interfaces of one instance.</summary>
public sealed class StoreHandle(IEventStore events, IAppStore apps, IDeadLetterStore deadLetters, IRetentionStore retention, Func<ValueTask> close) : IAsyncDisposable
{
    public IRetentionStore Retention { get; } = retention;

    public IEventStore Events { get; } = events;

    public IAppStore Apps { get; } = apps;

    public IDeadLetterStore DeadLetters { get; } = deadLetters;

    public ValueTask DisposeAsync() => close();
}

/// <summary>
/// Opens a store over one location (a file, a stream prefix...). Opening again after closing reopens the same data,
/// as a broker restart does.
/// </summary>
public interface IStoreFactory : IAsyncDisposable
{
    /// <summary>Opens (and initialises) the store.</summary>
    ValueTask<StoreHandle> OpenAsync(CancellationToken cancellationToken = default);
}

/// <summary>The base of every compliance test class: a fresh store location per test.</summary>
public abstract class StoreTestBase : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private IStoreFactory? _factory;

    protected StoreHandle Store { get; private set; } = null!;

    protected IStoreFactory Factory => _factory!;

    /// <summary>Makes a factory over a new, empty location.</summary>
    protected abstract IStoreFactory CreateFactory();

    public async Task InitializeAsync()
    {
        _factory = CreateFactory();
        Store = await _factory.OpenAsync();
    }

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        await _factory!.DisposeAsync();
    }

    /// <summary>Closes the store and opens it again over the same data.</summary>
    protected async Task ReopenAsync()
    {
        await Store.DisposeAsync();
        Store = await Factory.OpenAsync();
    }

    protected static HeraldEvent Event(string key = "send-event", string body = """{"random":42}""", DateTimeOffset? time = null, string account = "acme", string workspace = "dev", string sender = "vtex.events-example") =>
        new(Guid.CreateVersion7(), account, workspace, sender, key, "", System.Text.Encoding.UTF8.GetBytes(body), time ?? T0, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");

    protected static DeliveryOutcome Delivered(LeasedDelivery d, DateTimeOffset at) =>
        new(d.DeliveryId, new AttemptRecord(d.Attempt, at, TimeSpan.FromMilliseconds(12), 204, null), DeliveryState.Delivered, null, null, at);

    protected static DeliveryOutcome Retry(LeasedDelivery d, DateTimeOffset at, DateTimeOffset retryAt, int status = 500) =>
        new(d.DeliveryId, new AttemptRecord(d.Attempt, at, TimeSpan.FromMilliseconds(12), status, "HTTP " + status), DeliveryState.Pending, retryAt, null, at);

    protected static DeliveryOutcome Dead(LeasedDelivery d, DateTimeOffset at, string reason = "rejected", int status = 400) =>
        new(d.DeliveryId, new AttemptRecord(d.Attempt, at, TimeSpan.FromMilliseconds(12), status, "HTTP " + status), DeliveryState.Dead, null, reason, at);

    protected async Task<IReadOnlyList<LeasedDelivery>> LeaseAsync(string subscription, int max = 10, DateTimeOffset? now = null) =>
        await Store.Events.LeaseAsync(subscription, max, now ?? T0, (now ?? T0).AddMinutes(1));

    /// <summary>Appends an event for one subscription and delivers it (or dead-letters it) at the event's time.</summary>
    protected async Task<LeasedDelivery> FinishAsync(HeraldEvent evt, string subscription, bool dead = false)
    {
        await Store.Events.AppendAsync(evt, [subscription], null, T0);
        var leased = Assert.Single(await LeaseAsync(subscription, max: 1, now: evt.Time));
        await Store.Events.RecordOutcomesAsync([dead ? Dead(leased, evt.Time) : Delivered(leased, evt.Time)]);
        return leased;
    }
}
