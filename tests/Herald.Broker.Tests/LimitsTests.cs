using System.Net;
using System.Net.Http.Json;
using Herald.Broker.Internal;

namespace Herald.Broker.Tests;

public sealed class LimitsTests
{
    [Fact]
    public async Task Publish_OverTheAppsRateLimit_Gets429WithRetryAfter_AndStoresNothingMore()
    {
        await using var broker = await BrokerHarness.StartAsync(configure: o =>
        {
            o.PublishPermitsPerSecond = 1;
            o.PublishBurst = 3;
        });
        await using var app = await FakeApp.StartAsync();
        await broker.LinkAsync("acme", "dev", "vtex", "live-users", """{"events":{"h":{"keys":["k"]}}}""", app.Endpoint);
        var token = (await broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", app.Endpoint)).Token;

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await broker.PublishAsync(token, "acme", "dev", "k", "{}");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 must carry Retry-After");
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }

        var accepted = statuses.Count(s => s == HttpStatusCode.Accepted);
        Assert.InRange(accepted, 3, 19);
        Assert.Equal(20 - accepted, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        var subscription = await Eventually.ReturnsAsync(() => broker.SubscriptionAsync("acme", "dev", "acme/dev/vtex.live-users/h"), s => s.Pending + s.InFlight == 0, "settled");
        Assert.Equal(accepted, subscription.Delivered);
    }

    [Theory]
    [InlineData("http://10.1.2.3:5000")]
    [InlineData("http://example.com:5000")]
    [InlineData("http://127.0.0.1:5000/some/path")]
    [InlineData("ftp://127.0.0.1:5000")]
    public async Task Link_ToAnEndpointOffThisMachineOrNotABaseUrl_IsRefused(string endpoint)
    {
        await using var broker = await BrokerHarness.StartAsync();
        using var request = broker.Admin(HttpMethod.Put, "/_herald/v1/acme/dev/apps/vtex.live-users");
        request.Content = JsonContent.Create(new
        {
            manifest = System.Text.Json.JsonDocument.Parse(BrokerHarness.Manifest("vtex", "live-users")).RootElement,
            service = System.Text.Json.JsonDocument.Parse("{}").RootElement,
            endpoint,
        });

        using var response = await broker.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var apps = await broker.AdminGetAsync<Admin.AppsResponse>("/_herald/v1/acme/dev/apps");
        Assert.Empty(apps.Apps);
    }

    [Fact]
    public async Task Link_ToAnAllowListedHost_IsAccepted()
    {
        await using var broker = await BrokerHarness.StartAsync(configure: o => o.AllowedEndpointHosts.Add("apps.internal"));

        var link = await broker.LinkAsync("acme", "dev", "vtex", "live-users", "{}", new Uri("http://apps.internal:5000"));

        Assert.Equal("vtex.live-users@0.1.0", link.App);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", false)]
    [InlineData("http://localhost:8080", false)]
    [InlineData("http://[::1]:8080", false)]
    [InlineData("https://0.0.0.0:8443", false)]
    [InlineData("http://0.0.0.0:8080", true)]
    [InlineData("http://192.168.1.10:8080", true)]
    public void IsExposedWithoutTls_IsTrueOnlyForPlainHttpOffLoopback(string url, bool expected) =>
        Assert.Equal(expected, BrokerStartup.IsExposedWithoutTls(url));
}
