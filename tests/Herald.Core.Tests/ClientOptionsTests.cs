using Herald.Delivery;

namespace Herald.Core.Tests;

public sealed class ClientOptionsTests
{
    /// <summary><c>clients.options.default</c> from the tutorial.</summary>
    private static readonly ClientOptions TutorialDefault = new() { Retries = 2, Timeout = 10_000 };

    /// <summary><c>clients.options.events</c> from the tutorial.</summary>
    private static readonly ClientOptions TutorialEvents = new()
    {
        ExponentialTimeoutCoefficient = 2,
        ExponentialBackoffCoefficient = 2,
        InitialBackoffDelay = 50,
        Retries = 1,
        Timeout = 3000,
        Concurrency = 10,
    };

    [Fact]
    public void Resolve_TutorialEventsClient_UsesItsOwnOptions()
    {
        var resolved = ClientOptions.Resolve(TutorialEvents, TutorialDefault);

        Assert.Equal(TutorialEvents, resolved);
    }

    [Fact]
    public void Resolve_ClientWithoutOwnOptions_UsesDefaultThenLibraryDefaults()
    {
        var resolved = ClientOptions.Resolve(null, TutorialDefault);

        Assert.Equal(2, resolved.Retries);
        Assert.Equal(10_000, resolved.Timeout);
        Assert.Equal(ClientOptions.LibraryDefaults.ExponentialTimeoutCoefficient, resolved.ExponentialTimeoutCoefficient);
        Assert.Equal(ClientOptions.LibraryDefaults.InitialBackoffDelay, resolved.InitialBackoffDelay);
        Assert.Equal(ClientOptions.LibraryDefaults.ExponentialBackoffCoefficient, resolved.ExponentialBackoffCoefficient);
        Assert.Null(resolved.Concurrency);
    }

    [Fact]
    public void Resolve_FieldByField_NamedOverDefaultOverLibrary()
    {
        var named = new ClientOptions { Timeout = 3000, Concurrency = 4 };
        var defaults = new ClientOptions { Timeout = 10_000, Retries = 2, InitialBackoffDelay = 500 };

        var resolved = ClientOptions.Resolve(named, defaults);

        Assert.Equal(
            new ClientOptions
            {
                Timeout = 3000,
                Concurrency = 4,
                Retries = 2,
                InitialBackoffDelay = 500,
                ExponentialTimeoutCoefficient = 2,
                ExponentialBackoffCoefficient = 2,
            },
            resolved);
    }

    [Fact]
    public void Resolve_NothingSet_IsTheLibraryDefaults()
    {
        Assert.Equal(ClientOptions.LibraryDefaults, ClientOptions.Resolve(null, null));
        Assert.Equal(ClientOptions.LibraryDefaults, ClientOptions.Resolve(new ClientOptions(), new ClientOptions()));
    }

    [Fact]
    public void LibraryDefaults_AreTheDocumentedValues()
    {
        Assert.Equal(0, ClientOptions.LibraryDefaults.Retries);
        Assert.Equal(1000, ClientOptions.LibraryDefaults.Timeout);
        Assert.Equal(2, ClientOptions.LibraryDefaults.ExponentialTimeoutCoefficient);
        Assert.Equal(200, ClientOptions.LibraryDefaults.InitialBackoffDelay);
        Assert.Equal(2, ClientOptions.LibraryDefaults.ExponentialBackoffCoefficient);
        Assert.Null(ClientOptions.LibraryDefaults.Concurrency);
    }

    [Fact]
    public void Merge_NullFallback_ReturnsTheSameOptions()
    {
        Assert.Same(TutorialEvents, TutorialEvents.Merge(null));
    }

    [Fact]
    public void Merge_DoesNotChangeEitherSide()
    {
        var named = new ClientOptions { Timeout = 1 };
        var fallback = new ClientOptions { Retries = 3 };

        var merged = named.Merge(fallback);

        Assert.Equal(new ClientOptions { Timeout = 1, Retries = 3 }, merged);
        Assert.Null(named.Retries);
        Assert.Null(fallback.Timeout);
    }

    [Fact]
    public void ToSchedule_TutorialEventsClient_GrowsTimeoutsAndBackoff()
    {
        var schedule = ClientOptions.Resolve(TutorialEvents, TutorialDefault).ToSchedule();

        Assert.Equal(1, schedule.Retries);
        Assert.Equal(2, schedule.MaxAttempts);
        Assert.Equal(3000, schedule.Timeout);
        Assert.Equal(10, schedule.Concurrency);
        Assert.Equal(TimeSpan.FromMilliseconds(3000), schedule.AttemptTimeout(1));
        Assert.Equal(TimeSpan.FromMilliseconds(6000), schedule.AttemptTimeout(2));
        Assert.Equal(TimeSpan.FromMilliseconds(50), schedule.BackoffDelay(1, 0));
        Assert.Equal(TimeSpan.FromMilliseconds(100), schedule.BackoffDelay(2, 0));
        Assert.Equal(DeliveryPolicy.DefaultMaxBackoffDelay, schedule.MaxBackoffDelay);
    }

    [Fact]
    public void ToSchedule_UnsetFields_FallBackToLibraryDefaultsAndUnlimitedConcurrency()
    {
        var schedule = new ClientOptions().ToSchedule();

        Assert.Equal(0, schedule.Retries);
        Assert.Equal(1000, schedule.Timeout);
        Assert.Equal(2, schedule.ExponentialTimeoutCoefficient);
        Assert.Equal(200, schedule.InitialBackoffDelay);
        Assert.Equal(2, schedule.ExponentialBackoffCoefficient);
        Assert.Equal(int.MaxValue, schedule.Concurrency);
        Assert.Equal(DeliveryPolicy.DefaultMaxEventAge, schedule.MaxEventAge);
    }
}
