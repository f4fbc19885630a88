using Herald.Sdk.Internal;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Sdk.Tests;

public sealed class ReplayGuardTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 12, 0, 30, TimeSpan.Zero));

    [Fact]
    public void ADeliverySeenBefore_IsRefused_ButAnotherAttemptOfTheSameEventIsNot()
    {
        var guard = new ReplayGuard(_clock);

        Assert.True(guard.TryAccept("event-1", "request-1"));
        Assert.False(guard.TryAccept("event-1", "request-1"));
        Assert.True(guard.TryAccept("event-1", "request-2"));
        Assert.True(guard.TryAccept("event-2", "request-1"));
    }

    [Fact]
    public void ADeliveryWithTheBrokersRandomRequestId_IsRefusedWhenSentAgain_AndEveryOtherAttemptIsAccepted()
    {
        var guard = new ReplayGuard(_clock);
        var requests = Enumerable.Range(0, 1000).Select(_ => Guid.NewGuid().ToString("N")).ToList();

        Assert.All(requests, request => Assert.True(guard.TryAccept("0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", request)));

        Assert.All(requests, request => Assert.False(guard.TryAccept("0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", request)));
        Assert.False(guard.TryAccept("0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", requests[0].ToUpperInvariant()));
        Assert.Equal(1000, guard.Count);
    }

    [Fact]
    public void ADelivery_IsRememberedForTheWholeMemory_AndForgottenAfter()
    {
        var guard = new ReplayGuard(_clock);
        Assert.True(guard.TryAccept("event-1", "request-1"));

        _clock.Advance(ReplayGuard.Memory);
        Assert.False(guard.TryAccept("event-1", "request-1"));

        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(guard.TryAccept("event-1", "request-1"));
        Assert.Equal(1, guard.Count);
    }

    [Fact]
    public void UnderSteadyTraffic_ItHoldsOnlyTheLastMemorysDeliveries_AndStillRefusesEveryRecentOne()
    {
        var guard = new ReplayGuard(_clock);
        var step = TimeSpan.FromMilliseconds(10);
        const int Deliveries = 200_000; // 2,000 s of traffic at 100 deliveries/s, more than three times the memory
        for (var i = 0; i < Deliveries; i++)
        {
            Assert.True(guard.TryAccept($"event-{i}", "r"));
            _clock.Advance(step);
        }

        var mostHeld = (int)((ReplayGuard.Memory + TimeSpan.FromMinutes(1)) / step) + 1;
        Assert.InRange(guard.Count, (int)(ReplayGuard.Memory / step), mostHeld);
        for (var i = Deliveries - (int)(ReplayGuard.Memory / step); i < Deliveries; i += 997)
        {
            Assert.False(guard.TryAccept($"event-{i}", "r"));
        }
    }

    [Fact]
    public void AClockThatStepsBack_ForgetsNothingEarly()
    {
        var clock = new SteppingClock { Now = _clock.GetUtcNow() };
        var guard = new ReplayGuard(clock);
        Assert.True(guard.TryAccept("event-1", "request-1"));

        clock.Now -= TimeSpan.FromMinutes(3);
        Assert.True(guard.TryAccept("event-2", "request-1"));
        clock.Now += TimeSpan.FromMinutes(3) + ReplayGuard.Memory;

        Assert.False(guard.TryAccept("event-1", "request-1"));
        Assert.False(guard.TryAccept("event-2", "request-1"));
    }

    /// <summary>A clock that can be set backwards, as a system clock corrected by NTP can be.</summary>
    private sealed class SteppingClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
