using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Herald.EndToEnd.Tests;

/// <summary>
/// The broker process killed with SIGKILL five times while 20,000 events are published and delivered: every event
/// answered 202 is handled at least once after the last restart.
/// </summary>
public sealed class CrashLoadTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Events = 20_000;
    private const int Kills = 5;
    private const string Account = "load";
    private BrokerProcess _broker = null!;

    public async Task InitializeAsync() => _broker = await BrokerProcess.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task BrokerKilledFiveTimesUnderLoad_LosesNoAcceptedEvent()
    {
        await using var app = await AppProcess.StartAsync(_broker, Repo.TestSubscriberFolder, Account, "dev");
        var accepted = new ConcurrentDictionary<string, byte>();
        var next = -1;
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        using var client = new HttpClient { BaseAddress = _broker.Url, Timeout = TimeSpan.FromSeconds(10) };

        // One publish, answered 202 or not; the broker may be down (killed) at any moment.
        async Task<bool> TryPublishAsync(int n)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/_herald/v1/{Account}/dev/events/send-event?sender=vtex.events-example")
            {
                Content = new StringContent($$"""{"n":{{n}}}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _broker.AdminToken);
            request.Headers.Add("Idempotency-Key", "crash-load-" + n);
            try
            {
                using var response = await client.SendAsync(request, deadline.Token);
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    return false;
                }

                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(deadline.Token));
                accepted.TryAdd(body.RootElement.GetProperty("id").GetString()!, 0);
                return true;
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !deadline.IsCancellationRequested))
            {
                return false; // the broker is down: the same publish (same Idempotency-Key) is sent again once it is back
            }
        }

        async Task PublishAllAsync()
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < Events)
            {
                var current = n;
                await Eventually.ReturnsAsync(() => TryPublishAsync(current), ok => ok, $"event {current} to be accepted", TimeSpan.FromMinutes(5));
            }
        }

        var publishers = Enumerable.Range(0, 16).Select(_ => Task.Run(PublishAllAsync)).ToList();
        for (var kill = 1; kill <= Kills; kill++)
        {
            var threshold = kill * Events / (Kills + 1);
            await Eventually.TrueAsync(() => accepted.Count >= threshold, $"{threshold} events accepted before kill {kill}", TimeSpan.FromMinutes(2));
            await _broker.KillAsync();
            await _broker.RestartAsync();
        }

        await Task.WhenAll(publishers);
        Assert.Equal(Events, accepted.Count);

        var handled = await Eventually.ReturnsAsync(
            () => Task.FromResult(app.Records().Where(r => r.GetProperty("outcome").ToString() == "204").Select(r => r.GetProperty("eventId").GetString()!).ToList()),
            ids => ids.ToHashSet().IsSupersetOf(accepted.Keys),
            "every accepted event handled after the last restart",
            TimeSpan.FromMinutes(4));
        var duplicates = handled.Count - handled.Distinct().Count();
        output.WriteLine($"{Events} events accepted, broker killed {Kills} times; {handled.Distinct().Count()} handled, {duplicates} handled more than once.");
        var subscription = await _broker.SubscriptionAsync(Account, "dev", $"{Account}/dev/test.subscriber/fromExample");
        Assert.Equal(0, subscription.Dead);
    }
}
