using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;

namespace Herald.Broker.Tests;

/// <summary>The Prometheus endpoint: behind the admin token, with each subscription's backlog as gauges.</summary>
public sealed class MetricsTests : IAsyncLifetime
{
    // A workspace of this test's own: other tests' brokers in this process report their subscriptions too.
    private readonly string _workspace = "metrics" + Guid.NewGuid().ToString("N")[..8];
    private BrokerHarness _broker = null!;
    private FakeApp _app = null!;

    public async Task InitializeAsync()
    {
        _broker = await BrokerHarness.StartAsync(configure: o => o.BacklogSampleInterval = TimeSpan.FromMilliseconds(500));
        _app = await FakeApp.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _app.DisposeAsync();
    }

    private string Subscription => $"acme/{_workspace}/vtex.live-users/h";

    private async Task<string> ScrapeAsync()
    {
        using var request = _broker.Admin(HttpMethod.Get, "/metrics");
        using var response = await _broker.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The value of <paramref name="metric"/> for this test's subscription, or null when the scrape has none.</summary>
    private async Task<(long? Pending, long? InFlight, double? LagSeconds)> BacklogAsync()
    {
        var text = await ScrapeAsync();
        double? Read(string metric) => text.Split('\n')
            .Where(line => line.StartsWith(metric + "{", StringComparison.Ordinal) && line.Contains($"herald_subscription=\"{Subscription}\"", StringComparison.Ordinal))
            .Select(line => (double?)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture))
            .LastOrDefault();
        return ((long?)Read("herald_deliveries_pending"), (long?)Read("herald_deliveries_in_flight"), Read("herald_deliveries_lag_seconds"));
    }

    [Fact]
    public async Task Metrics_NeedTheAdminToken()
    {
        var app = await _broker.LinkAsync("acme", _workspace, "vtex", "events-example", "{}", _app.Endpoint);
        using var anonymous = await _broker.Client.GetAsync(new Uri("/metrics", UriKind.Relative));
        using var withAppToken = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        withAppToken.Headers.Authorization = new AuthenticationHeaderValue("Bearer", app.Token);
        using var refused = await _broker.Client.SendAsync(withAppToken);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        using var published = await _broker.PublishAsync(app.Token, "acme", _workspace, "k", "{}");
        Assert.Contains("# TYPE herald_events_published_total counter", await ScrapeAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Durations_AreHistogramsWithBucketsInSeconds_TheStoresCommitsAmongThem()
    {
        var app = await _broker.LinkAsync("acme", _workspace, "vtex", "events-example", "{}", _app.Endpoint);
        using var published = await _broker.PublishAsync(app.Token, "acme", _workspace, "k", "{}");
        Assert.Equal(HttpStatusCode.Accepted, published.StatusCode);

        var text = await ScrapeAsync();
        // Buckets of milliseconds, not of whole seconds: a publish takes about one.
        Assert.Contains("messaging_client_operation_duration_seconds_bucket{otel_scope_name=\"Herald.Broker\",messaging_operation_name=\"publish\",le=\"0.001\"}", text, StringComparison.Ordinal);
        Assert.DoesNotContain("le=\"7500\"", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE herald_store_commit_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("herald_store_commit_duration_seconds_bucket{otel_scope_name=\"Herald.Storage.Sqlite\",le=\"0.001\"}", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE herald_store_write_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("herald_store_commit_writes_bucket{otel_scope_name=\"Herald.Storage.Sqlite\",le=\"64\"}", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BacklogGauges_RiseWhileTheSubscriberHoldsItsDeliveries_AndFallWhenItLetsGo()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _app.Respond = async (_, cancellationToken) =>
        {
            await release.Task.WaitAsync(cancellationToken);
            return Results.NoContent();
        };
        await _broker.LinkAsync("acme", _workspace, "vtex", "live-users", """{"events": {"h": {"keys": ["k"], "delivery": {"concurrency": 1, "timeout": 60000}}}}""", _app.Endpoint);
        var sender = await _broker.LinkAsync("acme", _workspace, "vtex", "events-example", "{}", _app.Endpoint);
        for (var i = 0; i < 5; i++)
        {
            using var accepted = await _broker.PublishAsync(sender.Token, "acme", _workspace, "k", $$"""{"n":{{i}}}""");
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        var held = await Eventually.ReturnsAsync(BacklogAsync, b => (b.Pending, b.InFlight) == (4, 1) && b.LagSeconds > 0, "4 pending and 1 in flight, and a lag, while the subscriber holds its one delivery");
        var later = await Eventually.ReturnsAsync(BacklogAsync, b => b.LagSeconds > held.LagSeconds, "the lag to grow while the subscriber holds on");
        release.SetResult();
        var drained = await Eventually.ReturnsAsync(BacklogAsync, b => b == (0, 0, 0), "the backlog drained, and no lag, once the subscriber answers");

        Assert.Equal(((long?)4, (long?)1), (held.Pending, held.InFlight));
        Assert.Equal(((long?)4, (long?)1), (later.Pending, later.InFlight));
        Assert.Equal(((long?)0, (long?)0, (double?)0), drained);
    }
}
