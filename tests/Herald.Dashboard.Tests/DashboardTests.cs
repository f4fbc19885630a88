using System.Net;
using System.Net.Http.Json;
using System.Text;
using Herald.Broker.Admin;
using Herald.Broker.Tests;
using Microsoft.AspNetCore.Http;
using PuppeteerSharp;

namespace Herald.Dashboard.Tests;

/// <summary>
/// The dashboard at /_herald/ui in a real headless Chromium, against a real in-process broker with a real (fake) app
/// linked: sign in with the admin token, watch an event delivered, make a dead letter, redrive, purge and replay it
/// from the page.
/// </summary>
public sealed class DashboardTests : IAsyncLifetime
{
    private const string Subscription = "acme/dev/vtex.live-users/onUpdate";

    private BrokerHarness _broker = null!;
    private FakeApp _app = null!;
    private volatile bool _failing;

    public async Task InitializeAsync()
    {
        _broker = await BrokerHarness.StartAsync();
        _app = await FakeApp.StartAsync();
        _app.Respond = (_, _) => Task.FromResult(_failing ? Results.StatusCode(StatusCodes.Status500InternalServerError) : Results.NoContent());
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _app.DisposeAsync();
    }

    /// <summary>A listener whose deliveries die after two attempts (one retry, 1 ms apart), and a sender.</summary>
    private async Task<string> LinkAppsAsync()
    {
        await _broker.LinkAsync("acme", "dev", "vtex", "live-users", """{"events": {"onUpdate": {"keys": ["send-event"], "delivery": {"retries": 1, "initialBackoffDelay": 1}}}}""", _app.Endpoint);
        return (await _broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", _app.Endpoint)).Token;
    }

    private async Task<string> PublishAsync(string token, string body)
    {
        using var response = await _broker.PublishAsync(token, "acme", "dev", "send-event", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PublishResponse>())!.Id;
    }

    private static Task<IElementHandle> VisibleAsync(IPage page, string selector) =>
        page.WaitForSelectorAsync(selector, new WaitForSelectorOptions { Visible = true });

    private static Task GoneAsync(IPage page, string selector) =>
        page.WaitForSelectorAsync(selector, new WaitForSelectorOptions { Hidden = true });

    private static Task<string> TextAsync(IPage page, string selector) =>
        page.EvaluateFunctionAsync<string>("s => document.querySelector(s).textContent", selector);

    /// <summary>Waits until the element's text contains <paramref name="text"/>.</summary>
    private static Task TextContainsAsync(IPage page, string selector, string text) =>
        page.WaitForFunctionAsync("(s, t) => { const e = document.querySelector(s); return e !== null && e.textContent.includes(t); }", selector, text);

    private async Task SignInAsync(IPage page, string token)
    {
        await page.GoToAsync(new Uri(_broker.BaseAddress, "/_herald/ui").ToString());
        await VisibleAsync(page, "#token");
        await page.TypeAsync("#token", token);
        await page.ClickAsync("#signin-button");
    }

    /// <summary>Clicks <paramref name="button"/>, then the in-page confirmation's button.</summary>
    private static async Task ClickAndConfirmAsync(IPage page, string button)
    {
        await (await VisibleAsync(page, button)).ClickAsync();
        await VisibleAsync(page, "#confirm[open] #confirm-ok");
        await page.ClickAsync("#confirm-ok");
        await GoneAsync(page, "#confirm[open]");
    }

    private static async Task SignedInAsync(IPage page)
    {
        await VisibleAsync(page, $"tr.subscription[data-subscription-id='{Subscription}']");
        // The broker subscribed the page to the workspace's activity before it answered: nothing published now is missed.
        await page.WaitForSelectorAsync("body[data-stream='live']");
    }

    [Fact]
    public async Task SignIn_ShowsTheApp_AnEventDelivered_AndADeadLetterRedrivenFromThePageIsDelivered()
    {
        var sender = await LinkAppsAsync();
        await using var chromium = await Chromium.LaunchAsync();
        await chromium.RunAsync(async page =>
        {
            await SignInAsync(page, _broker.AdminToken);
            await SignedInAsync(page);
            Assert.Equal("acme/dev", await page.EvaluateExpressionAsync<string>("document.getElementById('workspace').value"));
            Assert.Contains("vtex.live-users@0.1.0", await TextAsync(page, "tr.app[data-app='vtex.live-users']"), StringComparison.Ordinal);
            Assert.Contains("send-event", await TextAsync(page, $"tr.subscription[data-subscription-id='{Subscription}']"), StringComparison.Ordinal);

            // Published, then delivered on attempt 1 with the app's 204; the counts follow from the store.
            var delivered = await PublishAsync(sender, """{"n": 1}""");
            var chip = await VisibleAsync(page, $"li.event[data-event-id='{delivered}'] .outcome[data-kind='delivered'][data-attempt='1']");
            Assert.Contains("204", await chip.EvaluateFunctionAsync<string>("e => e.textContent"), StringComparison.Ordinal);
            await VisibleAsync(page, $"li.event[data-event-id='{delivered}'] .outcome[data-kind='published']");
            await TextContainsAsync(page, $"tr.subscription[data-subscription-id='{Subscription}'] td[data-field='delivered']", "1");

            // A subscriber that answers 500 with one retry: attempt 1 retrying, attempt 2 dead, and a dead letter with both.
            _failing = true;
            var dead = await PublishAsync(sender, """{"n": 2}""");
            await VisibleAsync(page, $"li.event[data-event-id='{dead}'] .outcome[data-kind='retrying'][data-attempt='1']");
            await VisibleAsync(page, $"li.event[data-event-id='{dead}'] .outcome[data-kind='dead'][data-attempt='2']");
            var letter = $"article.deadletter[data-event-id='{dead}']";
            await VisibleAsync(page, letter);
            var attempts = await page.EvaluateFunctionAsync<string[]>("s => [...document.querySelectorAll(s + ' tr.attempt')].map(r => r.textContent)", letter);
            Assert.Equal(2, attempts.Length);
            Assert.All(attempts, a => Assert.Contains("500", a, StringComparison.Ordinal));
            Assert.Contains("retries-exhausted", await TextAsync(page, letter + " .reason"), StringComparison.Ordinal);
            await TextContainsAsync(page, $"tr.subscription[data-subscription-id='{Subscription}'] td[data-field='dead']", "1");

            // Redrive from the page, through its confirmation; the subscriber now succeeds.
            _failing = false;
            await ClickAndConfirmAsync(page, letter + " button.redrive");
            await VisibleAsync(page, $"li.event[data-event-id='{dead}'] .outcome[data-kind='delivered'][data-attempt='1']");
            await GoneAsync(page, letter);
            await TextContainsAsync(page, "#notice", "Redrove 1 dead letter");
            Assert.Empty((await _broker.AdminGetAsync<DeadLettersResponse>("/_herald/v1/acme/dev/deadletters")).DeadLetters);

            // The chart counted both publishes and both deliveries.
            await page.WaitForFunctionAsync("() => Number(document.getElementById('chart').dataset.delivered) >= 2 && Number(document.getElementById('chart').dataset.published) >= 2");
            await VisibleAsync(page, "#chart svg .s-delivered");
            await page.ClickAsync("#chart-window button[data-window='60']");
            await page.WaitForSelectorAsync("#chart svg[aria-label*='last minute'] .s-delivered");
            await TextContainsAsync(page, "#chart-span", "last minute");
            var screenshot = Path.Combine(AppContext.BaseDirectory, "screenshots", "dashboard.png");
            Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
            await page.ScreenshotAsync(screenshot, new ScreenshotOptions { FullPage = true });

            Assert.Empty(chromium.Problems);
        });
    }

    [Fact]
    public async Task DeadLetter_StaysWhenThePurgeIsCancelled_GoesWhenItIsConfirmed_AndReplayDeliversAgain()
    {
        var sender = await LinkAppsAsync();
        await using var chromium = await Chromium.LaunchAsync();
        await chromium.RunAsync(async page =>
        {
            await SignInAsync(page, _broker.AdminToken);
            await SignedInAsync(page);

            _failing = true;
            var dead = await PublishAsync(sender, """{"n": 1}""");
            var letter = $"article.deadletter[data-event-id='{dead}']";
            await VisibleAsync(page, letter);

            await (await VisibleAsync(page, letter + " button.purge")).ClickAsync();
            await VisibleAsync(page, "#confirm[open] #confirm-cancel");
            Assert.Contains("deleted for good", await TextAsync(page, "#confirm-text"), StringComparison.Ordinal);
            await page.ClickAsync("#confirm-cancel");
            await GoneAsync(page, "#confirm[open]");
            Assert.Single((await _broker.AdminGetAsync<DeadLettersResponse>("/_herald/v1/acme/dev/deadletters")).DeadLetters);

            await ClickAndConfirmAsync(page, letter + " button.purge");
            await GoneAsync(page, letter);
            await TextContainsAsync(page, "#notice", "Purged 1 dead letter");
            Assert.Empty((await _broker.AdminGetAsync<DeadLettersResponse>("/_herald/v1/acme/dev/deadletters")).DeadLetters);

            // Replay from the page: the purged event is gone for good, so only the delivered one is delivered again.
            _failing = false;
            var delivered = await PublishAsync(sender, """{"n": 2}""");
            await VisibleAsync(page, $"li.event[data-event-id='{delivered}'] .outcome[data-kind='delivered']");
            await ClickAndConfirmAsync(page, $"tr.subscription[data-subscription-id='{Subscription}'] button.replay");
            await TextContainsAsync(page, "#notice", "Replaying 1 event to vtex.live-users/onUpdate");
            await page.WaitForFunctionAsync("s => document.querySelectorAll(s).length === 2", $"li.event[data-event-id='{delivered}'] .outcome[data-kind='delivered']");

            Assert.Empty(chromium.Problems);
        });
    }

    [Fact]
    public async Task Workspace_PickedFromTheBrokersList_ShowsItsAppsAndLiveFlow_AndTheAddressOpensIt()
    {
        await LinkAppsAsync();
        await _broker.LinkAsync("zeta", "prod", "vtex", "live-users", """{"events": {"onOrder": {"keys": ["order-created"]}}}""", _app.Endpoint);
        await using var chromium = await Chromium.LaunchAsync();
        await chromium.RunAsync(async page =>
        {
            await SignInAsync(page, _broker.AdminToken);
            await SignedInAsync(page);
            var options = await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#workspace option')].map(o => o.value)");
            Assert.Equal(["acme/dev", "zeta/prod"], options);

            await page.SelectAsync("#workspace", "zeta/prod");
            await VisibleAsync(page, "tr.subscription[data-subscription-id='zeta/prod/vtex.live-users/onOrder']");
            await GoneAsync(page, $"tr.subscription[data-subscription-id='{Subscription}']");
            await page.WaitForSelectorAsync("body[data-stream='live']");
            using var publish = _broker.Admin(HttpMethod.Post, "/_herald/v1/zeta/prod/events/order-created");
            publish.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            using var published = await _broker.Client.SendAsync(publish);
            var id = (await published.Content.ReadFromJsonAsync<PublishResponse>())!.Id;
            await VisibleAsync(page, $"li.event[data-event-id='{id}'] .outcome[data-kind='delivered']");

            Assert.EndsWith("#zeta/prod", page.Url, StringComparison.Ordinal);
            // The address names the workspace: opened with another, the signed-in tab shows that one.
            await page.GoToAsync(new Uri(_broker.BaseAddress, "/_herald/ui#acme/dev").ToString());
            await page.ReloadAsync();
            await SignedInAsync(page);
            Assert.Equal("acme/dev", await page.EvaluateExpressionAsync<string>("document.getElementById('workspace').value"));
            Assert.Empty(chromium.Problems);
        });
    }

    [Fact]
    public async Task SignIn_RefusesAWrongOrAnAppToken_SayingSo_KeepsTheAdminTokenForTheTab_AndSignOutForgetsIt()
    {
        var sender = await LinkAppsAsync();
        await using var chromium = await Chromium.LaunchAsync();
        await chromium.RunAsync(async page =>
        {
            await SignInAsync(page, "not-the-admin-token");
            await TextContainsAsync(page, "#signin-error", "The broker refused this token");
            Assert.Contains("admin.token", await TextAsync(page, "#signin-error"), StringComparison.Ordinal);
            Assert.True(await page.EvaluateExpressionAsync<bool>("document.getElementById('dashboard').hidden"));
            Assert.Null(await page.EvaluateExpressionAsync<string?>("sessionStorage.getItem('herald.adminToken')"));

            // An app token is refused too, and the message says it is one.
            await page.EvaluateExpressionAsync("document.getElementById('token').value = ''");
            await page.TypeAsync("#token", sender);
            await page.ClickAsync("#signin-button");
            await TextContainsAsync(page, "#signin-error", "it is an app token");

            // The right one still signs in from the same form.
            await page.EvaluateExpressionAsync("document.getElementById('token').value = ''");
            await page.TypeAsync("#token", _broker.AdminToken);
            await page.ClickAsync("#signin-button");
            await SignedInAsync(page);
            Assert.True(await page.EvaluateExpressionAsync<bool>("document.getElementById('signin-error').hidden"));

            // A reload keeps the tab signed in; signing out forgets the token.
            await page.ReloadAsync();
            await SignedInAsync(page);
            await page.ClickAsync("#signout");
            await VisibleAsync(page, "#token");
            Assert.Null(await page.EvaluateExpressionAsync<string?>("sessionStorage.getItem('herald.adminToken')"));
            Assert.True(await page.EvaluateExpressionAsync<bool>("document.getElementById('dashboard').hidden"));
        });
    }
}
