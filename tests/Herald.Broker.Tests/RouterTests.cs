using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Herald.Broker.Tests;

/// <summary>The router: <c>/{account}/{workspace}{path}</c> forwarded to the app that declares the route.</summary>
public sealed class RouterTests : IAsyncLifetime
{
    private const string Service = """
        {"timeout": 1, "routes": {
          "hcheck": {"path": "/_v/app/x/hcheck", "public": true},
          "orders": {"path": "/_v/app/x/orders/:id"}
        }}
        """;

    private BrokerHarness _broker = null!;
    private FakeApp _app = null!;
    private string _appToken = null!;
    private string _otherWorkspaceToken = null!;

    public async Task InitializeAsync()
    {
        _broker = await BrokerHarness.StartAsync();
        _app = await FakeApp.StartAsync();
        _appToken = (await _broker.LinkAsync("acme", "dev", "vtex", "router-example", Service, _app.Endpoint)).Token;
        _otherWorkspaceToken = (await _broker.LinkAsync("acme", "prod", "vtex", "router-example", Service, _app.Endpoint)).Token;
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task APublicRoute_IsForwardedWithTheBrokersContextHeaders_NotTheCallers()
    {
        _app.Respond = (_, _) => Task.FromResult<IResult>(new Answer(StatusCodes.Status201Created, "made", ("x-answer", "42")));
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/acme/dev/_v/app/x/hcheck?q=1&r=two", UriKind.Relative))
        {
            Content = new StringContent("""{"hello":true}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "garbage");
        request.Headers.TryAddWithoutValidation("x-vtex-account", "evil");
        request.Headers.TryAddWithoutValidation("x-vtex-credential", "stolen");
        request.Headers.TryAddWithoutValidation("x-colossus-route-id", "other");
        request.Headers.TryAddWithoutValidation("x-custom", "kept");

        using var response = await _broker.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("made", await response.Content.ReadAsStringAsync());
        Assert.Equal("42", response.Headers.GetValues("x-answer").Single());
        var received = Assert.Single(_app.Requests);
        Assert.Equal("POST", received.Method);
        Assert.Equal("/_v/app/x/hcheck?q=1&r=two", received.Path);
        Assert.Equal("""{"hello":true}""", Encoding.UTF8.GetString(received.Body));
        Assert.Equal("acme", received.Headers["x-vtex-account"]);
        Assert.Equal("dev", received.Headers["x-vtex-workspace"]);
        Assert.Equal("hcheck", received.Headers["x-colossus-route-id"]);
        Assert.Equal(_appToken, received.Headers["x-vtex-credential"]);
        Assert.Equal(32, received.Headers["x-request-id"].Length);
        Assert.Equal("kept", received.Headers["x-custom"]);
        Assert.False(received.Headers.ContainsKey("authorization"), "The caller's Authorization header reached the app.");
        Assert.Equal(_app.Endpoint.Authority, received.Headers["host"]);
    }

    [Fact]
    public async Task APrivateRoute_NeedsATokenOfTheWorkspace()
    {
        _app.Respond = (_, _) => Task.FromResult(Results.Text("order"));

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync("/acme/dev/_v/app/x/orders/7", null));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync("/acme/dev/_v/app/x/orders/7", _otherWorkspaceToken));
        Assert.Empty(_app.Requests);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync("/acme/dev/_v/app/x/orders/7", _appToken));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync("/acme/dev/_v/app/x/orders/7", _broker.AdminToken));
        Assert.Equal("orders", _app.Requests.First().Headers["x-colossus-route-id"]);
    }

    [Fact]
    public async Task AnUndeclaredPath_Is404()
    {
        using var response = await _broker.Client.GetAsync(new Uri("/acme/dev/_v/app/x/nothing", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("declares a route for '/_v/app/x/nothing'", await DetailAsync(response), StringComparison.Ordinal);
        Assert.Empty(_app.Requests);
    }

    [Fact]
    public async Task ACallToAVtexPlatformServiceThroughTheBrokerAsProxy_Is404SayingHeraldDoesNotProvideIt()
    {
        // As a VTEX IO node app's VBase client sends it: a plain-http URL on VTEX's host, through HTTP_PROXY.
        using var proxied = new HttpClient(new SocketsHttpHandler { Proxy = new WebProxy(_broker.BaseAddress), UseProxy = true });
        using var response = await proxied.GetAsync(new Uri("http://vbase.aws-us-east-1.vtex.io/acme/dev/buckets/vtex.app/files/x"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var detail = await DetailAsync(response);
        Assert.Contains("'vbase.aws-us-east-1.vtex.io' is a VTEX IO platform service, which Herald does not provide", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("declares a route", detail, StringComparison.Ordinal);
        Assert.Empty(_app.Requests);
    }

    [Fact]
    public async Task AnAppThatDoesNotAnswerWithinItsTimeout_Is502NamingIt()
    {
        // The app holds the request until the broker gives up on it (its service.json timeout, 1 s).
        _app.Respond = async (_, aborted) =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, aborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return Results.NoContent();
        };

        using var response = await _broker.Client.GetAsync(new Uri("/acme/dev/_v/app/x/hcheck", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("The app vtex.router-example did not answer", await DetailAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAppThatIsNotRunning_Is502NamingIt()
    {
        await _app.DisposeAsync();

        using var response = await _broker.Client.GetAsync(new Uri("/acme/dev/_v/app/x/hcheck", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("Is it running", await DetailAsync(response), StringComparison.Ordinal);
    }

    private async Task<HttpStatusCode> StatusAsync(string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await _broker.Client.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<string> DetailAsync(HttpResponseMessage response)
    {
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return problem.RootElement.GetProperty("detail").GetString()!;
    }

    private sealed class Answer(int status, string body, (string Name, string Value) header) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.Headers[header.Name] = header.Value;
            await httpContext.Response.WriteAsync(body);
        }
    }
}
