using System.Diagnostics;
using System.Threading.Channels;

namespace Herald.Storage.Compliance;

/// <summary>
/// The registry of linked apps: kept across restarts, keyed by (account, workspace, sender), and watchable, so every
/// broker on the store follows links and unlinks.
/// </summary>
public abstract class AppRegistryTests : StoreTestBase
{
    private const string MarkerSender = "vtex.watch-marker";

    [Fact]
    public async Task Apps_AreKeptAcrossReopen_AndCanBeReplacedAndDeleted()
    {
        var app = App("vtex.live-users");
        var relinked = app with { Endpoint = "http://127.0.0.1:5001", LinkNonce = "nonce2", TokenHash = "hash2" };
        await Store.Apps.SaveAppAsync(app);
        await Store.Apps.SaveAppAsync(relinked);

        await ReopenAsync();

        Assert.Equal(relinked, Assert.Single(await Store.Apps.LoadAppsAsync()));
        Assert.True(await Store.Apps.DeleteAppAsync(Account, Workspace, "vtex.live-users"));
        Assert.False(await Store.Apps.DeleteAppAsync(Account, Workspace, "vtex.live-users"));
        Assert.Empty(await Store.Apps.LoadAppsAsync());
        await ReopenAsync();
        Assert.Empty(await Store.Apps.LoadAppsAsync());
    }

    [Fact]
    public async Task Apps_AreKeyedByAccountWorkspaceAndSender()
    {
        var apps = new[]
        {
            App("vtex.one"),
            App("vtex.two"),
            App("vtex.one", workspace: "prod"),
            App("vtex.one", account: "globex"),
        };
        foreach (var app in apps)
        {
            await Store.Apps.SaveAppAsync(app);
        }

        Assert.True(await Store.Apps.DeleteAppAsync(Account, "prod", "vtex.one"));

        var loaded = await Store.Apps.LoadAppsAsync();
        Assert.Equal(new[] { apps[0], apps[1], apps[3] }.OrderBy(Key, StringComparer.Ordinal), loaded.OrderBy(Key, StringComparer.Ordinal));
    }

    [Fact]
    public async Task Watch_YieldsEachSaveAndDeleteMadeAfterItStarted_InOrder()
    {
        var before = App("vtex.before");
        await Store.Apps.SaveAppAsync(before);
        await using var watcher = await WatchAsync();
        var one = App("vtex.one");
        var relinked = one with { LinkNonce = "nonce2", Endpoint = "http://127.0.0.1:5002" };
        var other = App("vtex.two", workspace: "prod");

        await Store.Apps.SaveAppAsync(one);
        await Store.Apps.SaveAppAsync(relinked);
        await Store.Apps.SaveAppAsync(other);
        Assert.True(await Store.Apps.DeleteAppAsync(Account, Workspace, "vtex.one"));
        await watcher.CollectAsync(changes => changes.Count(c => c.Sender != MarkerSender) >= 4);

        var seen = watcher.Seen;
        Assert.DoesNotContain(seen, c => c.Sender == before.Sender);
        var real = seen.Where(c => c.Sender != MarkerSender).ToList();
        Assert.Equal(
            [
                new AppChange(Account, Workspace, "vtex.one", one),
                new AppChange(Account, Workspace, "vtex.one", relinked),
                new AppChange(Account, "prod", "vtex.two", other),
                new AppChange(Account, Workspace, "vtex.one", null),
            ],
            real);

        // Every marker was saved before the first real change, so none may come after it.
        Assert.True(seen.FindLastIndex(c => c.Sender == MarkerSender) < seen.FindIndex(c => c.Sender != MarkerSender), "A change was reported out of order.");
    }

    [Fact]
    public async Task Watch_ReportsAChangeMadeAfterItWasCalled_EvenBeforeItIsRead()
    {
        // A broker calls WatchAsync, reads the whole registry, and only then reads the watch: a change made in between
        // must not be lost.
        using var stop = new CancellationTokenSource(Patience);
        var changes = Store.Apps.WatchAsync(stop.Token);
        var early = App("vtex.early");
        await Store.Apps.SaveAppAsync(early);

        AppChange? seen = null;
        try
        {
            await foreach (var change in changes.WithCancellation(stop.Token))
            {
                if (change.Sender == early.Sender)
                {
                    seen = change;
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        Assert.True(seen is not null, $"The watch did not report a save made after WatchAsync was called and before it was read, within {Patience.TotalSeconds} s.");
        Assert.Equal(new AppChange(Account, Workspace, early.Sender, early), seen);
    }

    [Fact]
    public async Task Watch_ReportsEverySaveOfOneApp_EvenWhenALaterSaveReplacedItBeforeTheWatchWasRead()
    {
        // A relink replaces the app's record; a watch that has not read the first save yet must still report it, then
        // the relink: each broker's registry follows every change in order, not only the last one.
        using var stop = new CancellationTokenSource(Patience);
        var changes = Store.Apps.WatchAsync(stop.Token);
        var first = App("vtex.relinked");
        var second = first with { LinkNonce = "nonce2", Endpoint = "http://127.0.0.1:5002" };
        var third = first with { LinkNonce = "nonce3", Endpoint = "http://127.0.0.1:5003" };
        await Store.Apps.SaveAppAsync(first);
        await Store.Apps.SaveAppAsync(second);
        await Store.Apps.SaveAppAsync(third);

        var seen = new List<StoredApp?>();
        try
        {
            await foreach (var change in changes.WithCancellation(stop.Token))
            {
                if (change.Sender == first.Sender)
                {
                    seen.Add(change.App);
                    if (seen.Count == 3)
                    {
                        break;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        Assert.Equal([first, second, third], seen);
    }

    [Fact]
    public async Task Watch_EndsWhenItsTokenIsCancelled()
    {
        await using var watcher = await WatchAsync();

        await watcher.StopAsync();

        Assert.True(watcher.Ended, "WatchAsync was still running after its token was cancelled.");
    }

    private static StoredApp App(string sender, string workspace = Workspace, string account = Account) =>
        new(account, workspace, sender, sender + "@0.1.0", "http://127.0.0.1:5000", "nonce", "hash", """{"name":"x"}""", """{"events":{}}""", Now());

    private static string Key(StoredApp app) => $"{app.Account}/{app.Workspace}/{app.Sender}";

    /// <summary>
    /// Starts a watch and returns once it is running. When a watch begins is not observable, so a marker app is
    /// saved again and again until the watch reports it; every change after that must be reported, in order.
    /// </summary>
    private async Task<Watcher> WatchAsync()
    {
        var watcher = new Watcher(Store.Apps);
        var elapsed = Stopwatch.StartNew();
        for (var n = 0; ; n++)
        {
            await Store.Apps.SaveAppAsync(App(MarkerSender) with { LinkNonce = $"marker-{n}" });
            if (await watcher.NextAsync(TimeSpan.FromMilliseconds(200)))
            {
                Assert.Equal(MarkerSender, Assert.Single(watcher.Seen).Sender);
                return watcher;
            }

            if (elapsed.Elapsed > Patience)
            {
                await watcher.DisposeAsync();
                Assert.Fail($"WatchAsync reported none of {n + 1} saves in {Patience.TotalSeconds} s.");
            }
        }
    }

    /// <summary>Reads a watch in the background into <see cref="Seen"/>.</summary>
    private sealed class Watcher : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Channel<AppChange> _changes = Channel.CreateUnbounded<AppChange>();
        private readonly Task _run;

        public Watcher(IAppStore apps)
        {
            _run = Task.Run(async () =>
            {
                try
                {
                    await foreach (var change in apps.WatchAsync(_stop.Token))
                    {
                        _changes.Writer.TryWrite(change);
                    }

                    _changes.Writer.TryComplete();
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    _changes.Writer.TryComplete();
                }
                catch (Exception ex)
                {
                    _changes.Writer.TryComplete(ex);
                    throw;
                }
            });
        }

        public List<AppChange> Seen { get; } = [];

        public bool Ended => _run.IsCompleted;

        /// <summary>Waits up to <paramref name="wait"/> for the next change; returns whether one came.</summary>
        public async Task<bool> NextAsync(TimeSpan wait)
        {
            using var timeout = new CancellationTokenSource(wait);
            try
            {
                Seen.Add(await _changes.Reader.ReadAsync(timeout.Token));
                return true;
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                return false;
            }
        }

        /// <summary>Reads changes until <paramref name="enough"/> holds of what was seen.</summary>
        public async Task CollectAsync(Func<List<AppChange>, bool> enough)
        {
            var elapsed = Stopwatch.StartNew();
            while (!enough(Seen))
            {
                if (elapsed.Elapsed > Patience)
                {
                    Assert.Fail($"WatchAsync reported {Seen.Count} changes in {Patience.TotalSeconds} s: {string.Join(", ", Seen.Select(c => $"{c.Sender} {(c.App is null ? "deleted" : "saved")}"))}.");
                }

                await NextAsync(TimeSpan.FromMilliseconds(200));
            }
        }

        /// <summary>Cancels the watch and waits (within the patience) for it to end.</summary>
        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await _run.WaitAsync(Patience);
            }
            catch (TimeoutException)
            {
                // Ended stays false; the caller asserts it.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            _stop.Dispose();
        }
    }
}
