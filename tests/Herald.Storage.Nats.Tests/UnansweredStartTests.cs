using Herald.Delivery;
using Herald.Storage.Nats.Tests.Fixtures;
using Microsoft.Extensions.Logging;

namespace Herald.Storage.Nats.Tests;

/// <summary>
/// A store whose start-up requests go unanswered (its nats-server frozen with SIGSTOP, as a server starved of CPU is)
/// asks again until the server answers, and then opens, where it used to fail the broker's start.
/// </summary>
public sealed class UnansweredStartTests : IAsyncLifetime
{
    private const string SubscriptionId = "acme/dev/vtex.listener/h1";

    private readonly NatsServerProcess _server = new("unanswered-start");

    public Task InitializeAsync() => _server.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task AStartWhoseRequestsGoUnanswered_AsksAgain_AndOpensOnceTheServerAnswers()
    {
        var logger = new FreezingLogger(_server);
        var store = new NatsEventStore(new NatsStoreOptions { Url = _server.ClientUrl, Prefix = NatsNames.NextPrefix().TrimEnd('_') }, TimeProvider.System, logger);
        await using (store)
        {
            await store.InitializeAsync();

            Assert.True(logger.Froze, "The store never said it had connected.");
            Assert.True(logger.Unanswered > 0, "No start-up request went unanswered: the server was not frozen in time.");

            // The store works: a subscription's event is stored and handed out.
            await store.SubscriptionChangedAsync(new SubscriptionSpec(SubscriptionId, "acme", "dev", "vtex.listener", "h1", null, ["send-event"], new DeliveryPolicy()));
            var evt = new HeraldEvent(Guid.CreateVersion7(), "acme", "dev", "vtex.sender", "send-event", "", "{}"u8.ToArray(), DateTimeOffset.UtcNow, null);
            Assert.False((await store.AppendAsync(evt, [SubscriptionId], null)).Duplicate);
            await using var queue = await store.OpenQueueAsync(SubscriptionId);
            var lease = Assert.Single(await queue.LeaseAsync(1, TimeSpan.FromMinutes(1), maxWait: TimeSpan.FromSeconds(30)));
            Assert.Equal(evt.Id, lease.Event.Id);
        }
    }

    /// <summary>
    /// Freezes the server the moment the store says it has connected, before it asks JetStream for anything, and lets it
    /// run again when the store says a request went unanswered: the store's own log paces the fault.
    /// </summary>
    private sealed class FreezingLogger(NatsServerProcess server) : ILogger<NatsEventStore>
    {
        private int _unanswered;

        public bool Froze { get; private set; }

        public int Unanswered => Volatile.Read(ref _unanswered);

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Name == "Connected" && !Froze)
            {
                server.Pause();
                Froze = true;
            }
            else if (eventId.Name == "RequestUnanswered" && Interlocked.Increment(ref _unanswered) == 1)
            {
                server.Resume();
            }
        }
    }
}
