using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Broker.Tests;

/// <summary>The broker's authentication scheme and policies, and that an endpoint mapped without a policy fails closed.</summary>
public sealed class AuthorizationTests : IAsyncLifetime
{
    private const string Listener = """{"events":{"onSend":{"sender":"vtex.events-example","keys":["send-event"]}}}""";

    private BrokerHarness _broker = null!;
    private FakeApp _app = null!;
    private string _appToken = null!;

    public async Task InitializeAsync()
    {
        // A host's own endpoint, mapped with no policy at all.
        _broker = await BrokerHarness.StartAsync(map: app => app.MapGet("/host/{account}/{workspace}/hello", () => "hello"));
        _app = await FakeApp.StartAsync();
        _appToken = (await _broker.LinkAsync("acme", "dev", "vtex", "events-example", Listener, _app.Endpoint)).Token;
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task AnEndpointMappedWithoutAPolicy_NeedsAKnownToken()
    {
        var (missing, missingDetail) = await SendAsync(HttpMethod.Get, "/host/acme/dev/hello", null);
        var (unknown, unknownDetail) = await SendAsync(HttpMethod.Get, "/host/acme/dev/hello", "not-a-token");
        var (known, _) = await SendAsync(HttpMethod.Get, "/host/acme/dev/hello", _appToken);

        Assert.Equal(HttpStatusCode.Unauthorized, missing);
        Assert.Contains("needs 'Authorization: Bearer <token>'", missingDetail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown);
        Assert.Contains("The bearer token is not valid", unknownDetail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, known);
    }

    [Fact]
    public async Task Unauthorized_SaysBearer()
    {
        using var response = await _broker.Client.GetAsync(new Uri("/_herald/v1/acme/dev/apps", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ABadTenant_Is400_BeforeAnyToken()
    {
        var (status, detail) = await SendAsync(HttpMethod.Get, "/_herald/v1/ACME/dev/apps", null);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("The account 'ACME' is not valid", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheAdminToken_CannotPublishAsAnApp()
    {
        var (status, detail) = await SendAsync(HttpMethod.Put, "/acme/dev/events/send-event", _broker.AdminToken, "{}");

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("needs that app's token", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAppToken_CannotCallTheAdminApi_NorReadAnotherWorkspace()
    {
        var (admin, adminDetail) = await SendAsync(HttpMethod.Get, "/_herald/v1/acme/dev/apps", _appToken);
        var (metrics, _) = await SendAsync(HttpMethod.Get, HeraldBroker.MetricsPath, _appToken);
        var (tail, tailDetail) = await SendAsync(HttpMethod.Get, "/acme/prod/events", _appToken);

        Assert.Equal(HttpStatusCode.Forbidden, admin);
        Assert.Contains("needs the admin token", adminDetail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, metrics);
        Assert.Equal(HttpStatusCode.Forbidden, tail);
        Assert.Contains("it cannot act in acme/prod", tailDetail, StringComparison.Ordinal);
    }

    [Fact]
    public void OnlyHealthTheDashboardsFilesAndTheRouter_AreOpenWithoutAToken()
    {
        // The router is open because an app's public routes are; it authorizes the others itself. The dashboard's
        // files hold no data: everything the page shows comes from calls that need the admin token.
        var open = _broker.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            .Select(e => e.RoutePattern.RawText)
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Equal(["/_herald/ui", "/_herald/ui/{file}", "/healthz", "/readyz", "/{account}/{workspace}/{**path}"], open);
    }

    private async Task<(HttpStatusCode Status, string Detail)> SendAsync(HttpMethod method, string path, string? token, string? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, new MediaTypeHeaderValue("application/json"));
        }

        using var response = await _broker.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return (response.StatusCode, "");
        }

        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, problem.RootElement.GetProperty("detail").GetString()!);
    }
}
