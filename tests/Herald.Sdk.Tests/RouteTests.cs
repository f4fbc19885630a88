using System.Net;
using System.Text.Json;
using Herald.Protocol;
using Microsoft.AspNetCore.Http;

namespace Herald.Sdk.Tests;

public sealed class RouteTests
{
    private const string ServiceJson = """
        {
          "routes": {
            "order": { "path": "/_v/orders/:orderId/items/:item", "public": true },
            "files": { "path": "/_v/files/*rest" },
            "fail": { "path": "/_v/fail" },
            "rare": { "path": "/_v/rare", "rateLimitPerReplica": { "perMinute": 1 } }
          }
        }
        """;

    private static void Routes(HeraldService service, Func<HeraldRouteContext, Task>? order = null)
    {
        service.Routes["order"] = order ?? (ctx => ctx.HttpContext.Response.WriteAsync("order"));
        service.Routes["files"] = ctx => ctx.HttpContext.Response.WriteAsync(ctx.Params["rest"]);
        service.Routes["fail"] = _ => throw new HeraldHttpException(422, "quantity must be positive");
        service.Routes["rare"] = ctx => ctx.HttpContext.Response.WriteAsync("rare");
    }

    private static HttpRequestMessage Forwarded(HttpMethod method, string path, string routeId)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add(HeraldHeaders.RouteId, routeId);
        request.Headers.Add(HeraldHeaders.Account, "acme");
        request.Headers.Add(HeraldHeaders.Workspace, "master");
        request.Headers.Add(HeraldHeaders.Credential, "route-token");
        request.Headers.Add(HeraldHeaders.RequestId, "req-1");
        return request;
    }

    [Fact]
    public async Task RouteWithParams_DispatchedOnRouteIdWithContext()
    {
        HeraldRouteContext? seen = null;
        await using var service = await TestService.StartAsync(ServiceJson, s => Routes(s, order: async ctx =>
        {
            seen = ctx;
            ctx.HttpContext.Response.StatusCode = 201;
            await ctx.HttpContext.Response.WriteAsync($"{ctx.Params["orderId"]}/{ctx.Params["item"]}/{ctx.HttpContext.Request.Query["q"]}");
        }), settings: values => values.Remove(HeraldAppSettings.SigningSecretsKey));

        using var response = await service.Http.SendAsync(Forwarded(HttpMethod.Post, "/_v/orders/o%2042/items/7?q=x", "order"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("o 42/7/x", await response.Content.ReadAsStringAsync());
        Assert.NotNull(seen);
        Assert.Equal("order", seen.RouteId);
        Assert.Equal("acme", seen.Account);
        Assert.Equal("master", seen.Workspace);
        Assert.Equal("route-token", seen.Credential);
    }

    [Fact]
    public async Task CatchAllParam_TakesTheRestOfThePath()
    {
        await using var service = await TestService.StartAsync(ServiceJson, s => Routes(s));

        using var response = await service.Http.SendAsync(Forwarded(HttpMethod.Get, "/_v/files/a/b/c.txt", "files"));

        Assert.Equal("a/b/c.txt", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task UnknownRouteId_404Problem()
    {
        await using var service = await TestService.StartAsync(ServiceJson, s => Routes(s));

        using var response = await service.Http.SendAsync(Forwarded(HttpMethod.Get, "/_v/orders/1/items/2", "nope"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString();
        Assert.Contains("Route not found for nope", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RouteThrowingHeraldHttpException_ItsStatus()
    {
        await using var service = await TestService.StartAsync(ServiceJson, s => Routes(s));

        using var response = await service.Http.SendAsync(Forwarded(HttpMethod.Post, "/_v/fail", "fail"));

        Assert.Equal((HttpStatusCode)422, response.StatusCode);
        Assert.Contains("quantity must be positive", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestWithoutRouteId_IsNotDispatched()
    {
        var called = false;
        await using var service = await TestService.StartAsync(ServiceJson, s => Routes(s, order: _ =>
        {
            called = true;
            return Task.CompletedTask;
        }));

        using var response = await service.Http.GetAsync(new Uri("/_v/orders/1/items/2", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.False(called);
    }

    [Fact]
    public async Task PerMinuteLimitReached_429WithRetryAfter()
    {
        await using var service = await TestService.StartAsync(ServiceJson, s => Routes(s));

        using var first = await service.Http.SendAsync(Forwarded(HttpMethod.Get, "/_v/rare", "rare"));
        using var second = await service.Http.SendAsync(Forwarded(HttpMethod.Get, "/_v/rare", "rare"));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.NotNull(second.Headers.RetryAfter?.Delta);
        Assert.InRange(second.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
    }
}
