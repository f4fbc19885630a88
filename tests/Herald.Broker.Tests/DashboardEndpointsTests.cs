using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Herald.Broker.Admin;
using Microsoft.AspNetCore.Http;

namespace Herald.Broker.Tests;

/// <summary>
/// What the broker serves for the dashboard: its files without a token, under a Content-Security-Policy, and the two
/// admin calls it adds (workspaces, lag), with the admin token only. The page itself is tested in a real browser in
/// Herald.Dashboard.Tests.
/// </summary>
public sealed partial class DashboardEndpointsTests : IAsyncLifetime
{
    private BrokerHarness _broker = null!;
    private FakeApp _app = null!;

    public async Task InitializeAsync()
    {
        _broker = await BrokerHarness.StartAsync();
        _app = await FakeApp.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _app.DisposeAsync();
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await _broker.Client.SendAsync(request);
    }

    [Theory]
    [InlineData("/_herald/ui", "text/html")]
    [InlineData("/_herald/ui/", "text/html")]
    [InlineData("/_herald/ui/index.html", "text/html")]
    [InlineData("/_herald/ui/dashboard.js", "text/javascript")]
    [InlineData("/_herald/ui/dashboard.css", "text/css")]
    [InlineData("/_herald/ui/icon.svg", "image/svg+xml")]
    public async Task DashboardFiles_AreServedWithoutAToken_UnderAContentSecurityPolicy(string path, string contentType)
    {
        using var response = await GetAsync(path, token: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(contentType, response.Content.Headers.ContentType!.MediaType);
        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task DashboardFiles_HoldNoInlineScript_AndLoadNothingFromOutsideTheBroker()
    {
        foreach (var file in new[] { "index.html", "dashboard.js", "dashboard.css" })
        {
            using var response = await GetAsync("/_herald/ui/" + file, token: null);
            var text = await response.Content.ReadAsStringAsync();
            // The SVG namespace is a name, not something fetched.
            Assert.DoesNotMatch(ExternalUrl(), text.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal));
            if (file == "index.html")
            {
                Assert.DoesNotMatch(InlineScript(), text);
                Assert.DoesNotMatch(InlineHandler(), text);
                Assert.DoesNotContain("style=", text, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task DashboardFiles_AreRevalidated_AndAnUnchangedOneIsAnswered304()
    {
        using var first = await GetAsync("/_herald/ui/dashboard.js", token: null);
        var etag = first.Headers.ETag!.Tag;
        using var again = new HttpRequestMessage(HttpMethod.Get, "/_herald/ui/dashboard.js");
        again.Headers.IfNoneMatch.Add(new EntityTagHeaderValue(etag));
        using var second = await _broker.Client.SendAsync(again);

        Assert.Equal("no-cache", first.Headers.CacheControl!.ToString());
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Fact]
    public async Task DashboardFile_ThatDoesNotExist_IsAProblem404()
    {
        using var response = await GetAsync("/_herald/ui/secrets.txt", token: null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("/_herald/ui", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Workspaces_ListsEveryPairWithALinkedApp_InOrder_WithItsCounts()
    {
        await _broker.LinkAsync("acme", "dev", "vtex", "live-users", """{"events": {"a": {"keys": ["k"]}, "b": {"keys": ["j"]}}}""", _app.Endpoint);
        await _broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", _app.Endpoint);
        await _broker.LinkAsync("zeta", "master", "vtex", "live-users", """{"events": {"a": {"keys": ["k"]}}}""", _app.Endpoint);
        await _broker.LinkAsync("acme", "prod", "vtex", "events-example", "{}", _app.Endpoint);

        var answer = await _broker.AdminGetAsync<WorkspacesResponse>("/_herald/v1/workspaces");

        Assert.Equal(
            [new WorkspaceInfo("acme", "dev", 2, 2), new WorkspaceInfo("acme", "prod", 1, 0), new WorkspaceInfo("zeta", "master", 1, 1)],
            answer.Workspaces);
    }

    [Fact]
    public async Task Workspaces_AndLag_NeedTheAdminToken()
    {
        var app = await _broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", _app.Endpoint);
        foreach (var path in new[] { "/_herald/v1/workspaces", "/_herald/v1/acme/dev/lag" })
        {
            using var anonymous = await GetAsync(path, token: null);
            using var wrong = await GetAsync(path, "not-a-token");
            using var appToken = await GetAsync(path, app.Token);

            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, appToken.StatusCode);
            Assert.Equal("application/problem+json", appToken.Content.Headers.ContentType!.MediaType);
        }
    }

    [Fact]
    public async Task Lag_OfABadWorkspaceName_IsA400()
    {
        using var response = await GetAsync("/_herald/v1/ACME/dev/lag", _broker.AdminToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Lag_GrowsWhileTheSubscriberHoldsItsDelivery_AndIsZeroOnceItIsDelivered()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _app.Respond = async (_, cancellationToken) =>
        {
            await release.Task.WaitAsync(cancellationToken);
            return Results.NoContent();
        };
        await _broker.LinkAsync("acme", "dev", "vtex", "live-users", """{"events": {"h": {"keys": ["k"], "delivery": {"timeout": 60000}}}}""", _app.Endpoint);
        var sender = await _broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", _app.Endpoint);
        const string subscription = "acme/dev/vtex.live-users/h";
        var caughtUp = await _broker.AdminGetAsync<LagResponse>("/_herald/v1/acme/dev/lag");
        using var accepted = await _broker.PublishAsync(sender.Token, "acme", "dev", "k", "{}");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);

        var held = await Eventually.ReturnsAsync(() => _broker.AdminGetAsync<LagResponse>("/_herald/v1/acme/dev/lag"),
            l => l.Subscriptions.Single(s => s.Id == subscription).LagSeconds > 0, "a lag while the subscriber holds the delivery");
        var later = await Eventually.ReturnsAsync(() => _broker.AdminGetAsync<LagResponse>("/_herald/v1/acme/dev/lag"),
            l => l.Subscriptions.Single(s => s.Id == subscription).LagSeconds > held.Subscriptions.Single(s => s.Id == subscription).LagSeconds, "the lag to grow");
        release.SetResult();
        var drained = await Eventually.ReturnsAsync(() => _broker.AdminGetAsync<LagResponse>("/_herald/v1/acme/dev/lag"),
            l => l.Subscriptions.Single(s => s.Id == subscription).OldestUndelivered is null, "no lag once delivered");

        Assert.Equal(new SubscriptionLag(subscription, null, 0), Assert.Single(caughtUp.Subscriptions));
        Assert.NotNull(later.Subscriptions.Single(s => s.Id == subscription).OldestUndelivered);
        Assert.Equal(new SubscriptionLag(subscription, null, 0), Assert.Single(drained.Subscriptions));
    }

    [GeneratedRegex(@"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalUrl();

    [GeneratedRegex(@"<script(?![^>]*\bsrc=)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();

    [GeneratedRegex(@"\son[a-z]+\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex InlineHandler();
}
