using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Sdk.Tests;

public sealed class EventEndpointTests
{
    private const string ServiceJson = """
        {
          "events": {
            "liveUsersUpdate": { "sender": "vtex.events-example", "keys": ["send-event"] },
            "busy": { "keys": ["busy"] },
            "conflict": { "keys": ["conflict"] },
            "broken": { "keys": ["broken"] },
            "limited": { "keys": ["limited"], "rateLimitPerReplica": { "concurrent": 1 } }
          }
        }
        """;

    private static void Handlers(HeraldService service, Func<EventContext, Task>? main = null, Func<EventContext, Task>? limited = null)
    {
        service.Events["liveUsersUpdate"] = main ?? (_ => Task.CompletedTask);
        service.Events["busy"] = _ => throw new TooManyRequestsException("busy now", TimeSpan.FromSeconds(3));
        service.Events["conflict"] = _ => throw new HeraldHttpException(409, "order already shipped");
        service.Events["broken"] = _ => throw new InvalidOperationException("database down");
        service.Events["limited"] = limited ?? (_ => Task.CompletedTask);
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    [Fact]
    public async Task Delivery_HandlerReturns_204WithEveryContextField()
    {
        EventContext? seen = null;
        string? randomValue = null;
        HeraldClients? fromServices = null;
        await using var service = await TestService.StartAsync(ServiceJson, s => Handlers(s, main: ctx =>
        {
            seen = ctx;
            randomValue = ctx.Body.GetProperty("random").GetRawText();
            fromServices = ctx.Services.GetService<HeraldClients>();
            return Task.CompletedTask;
        }));

        using var response = await service.Http.SendAsync(TestService.Delivery("liveUsersUpdate", """{"random": 42}""", attempt: 3));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.NotNull(seen);
        Assert.Equal("42", randomValue);
        Assert.Equal("send-event", seen.Key);
        Assert.Equal("vtex.events-example", seen.Sender);
        Assert.Equal("order-1", seen.Subject);
        Assert.Equal("acme", seen.Account);
        Assert.Equal("dev", seen.Workspace);
        Assert.Equal("delivery-token", seen.Credential);
        Assert.Equal("0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", seen.EventId);
        Assert.Equal(3, seen.Attempt);
        Assert.Equal("liveUsersUpdate", seen.HandlerId);
        Assert.Equal(new DateTimeOffset(2025, 5, 1, 10, 0, 0, TimeSpan.Zero), seen.Time);
        Assert.NotNull(seen.Clients.Events);
        Assert.NotNull(fromServices);
    }

    [Fact]
    public async Task UnknownHandler_404WithHandlerNotFoundDetail()
    {
        await using var service = await TestService.StartAsync(ServiceJson, s => Handlers(s));

        using var response = await service.Http.SendAsync(TestService.Delivery("nobody", "{}"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = await ProblemAsync(response);
        Assert.Equal("Event handler not found for nobody", problem.GetProperty("detail").GetString());
        Assert.Equal(404, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task BodyNotJson_400()
    {
        await using var service = await TestService.StartAsync(ServiceJson, s => Handlers(s));

        using var response = await service.Http.SendAsync(TestService.Delivery("liveUsersUpdate", "not json {"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not JSON", (await ProblemAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unsigned_401BeforeAnythingElse()
    {
        var called = false;
        await using var service = await TestService.StartAsync(ServiceJson, s => Handlers(s, main: _ =>
        {
            called = true;
            return Task.CompletedTask;
        }));

        using var request = TestService.Delivery("liveUsersUpdate", "{}");
        request.Headers.Remove("webhook-signature");
        using var response = await service.Http.SendAsync(request);
        using var unknown = TestService.Delivery("nobody", "{}");
        unknown.Headers.Remove("webhook-id");
        using var unknownResponse = await service.Http.SendAsync(unknown);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("herald link", (await ProblemAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, unknownResponse.StatusCode);
        Assert.False(called);
    }

    [Fact]
    public async Task WrongSecret_401()
    {
        await using var service = await TestService.StartAsync(ServiceJson, s => Handlers(s));

        using var response = await service.Http.SendAsync(TestService.Delivery("liveUsersUpdate", "{}", secret: TestService.OtherSecret));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("signing secret", (await ProblemAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AlteredBody_401()
    {
        var called = false;
        await using var service = await TestService.StartAsync(ServiceJson, s => Handlers(s, main: _ =>
        {
            called = true;
            return Task.CompletedTask;
        }));

        using var response = await service.Http.SendAsync(TestService.Delivery("liveUsersUpdate", """{"amount": 1}""", bodyOnWire: """{"amount": 9}"""));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.False(called);
    }

    [Fact]
    public async Task SignatureOlderThanFiveMinutes_401_YoungerAccepted()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 5, 1, 12, 0, 0, TimeSpan.Zero));
        await using var service = await TestService.StartAsync(ServiceJson, s => Handlers(s), services => services.AddSingleton<TimeProvider>(clock));
        var signedAt = clock.GetUtcNow();

        using var fresh = await service.Http.SendAsync(TestService.Delivery("liveUsersUpdate", "{}", signedAt: signedAt));
        clock.Advance(TimeSpan.FromMinutes(4));
        using var stillFresh = await service.Http.SendAsync(TestService.Delivery("liveUsersUpdate", "{}", signedAt: signedAt));
        clock.Advance(TimeSpan.FromMinutes(2));
        using var stale = await service.Http.SendAsync(TestService.Delivery("liveUsersUpdate", "{}", signedAt: signedAt));

        Assert.Equal(HttpStatusCode.NoContent, fresh.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, stillFresh.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);
        Assert.Contains("5 minutes", (await ProblemAsync(stale)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoSecretsDuringRotation_BothAccepted()
    {
        await using var service = await TestService.StartAsync(
            ServiceJson,
            s => Handlers(s),
            settings: values => values[HeraldAppSettings.SigningSecretsKey] = TestService.Secret + ", " + TestService.OtherSecret);

        using var withOld = await service.Http.SendAsync(TestService.Delivery("liveUsersUpdate", "{}", secret: TestService.Secret));
        using var withNew = await service.Http.SendAsync(TestService.Delivery("liveUsersUpdate", "{}", secret: TestService.OtherSecret));
        using var withNeither = await service.Http.SendAsync(TestService.Delivery("liveUsersUpdate", "{}", secret: "whsec_" + Convert.ToBase64String(new byte[32])));

        Assert.Equal(HttpStatusCode.NoContent, withOld.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, withNew.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, withNeither.StatusCode);
    }

    [Fact]
    public async Task TooManyRequestsException_429WithRetryAfter()
    {
        await using var service = await TestService.StartAsync(ServiceJson, s => Handlers(s));

        using var response = await service.Http.SendAsync(TestService.Delivery("busy", "{}"));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.RetryAfter?.Delta);
        Assert.Equal("busy now", (await ProblemAsync(response)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task HeraldHttpException_ItsStatus()
    {
        await using var service = await TestService.StartAsync(ServiceJson, s => Handlers(s));

        using var response = await service.Http.SendAsync(TestService.Delivery("conflict", "{}"));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("order already shipped", (await ProblemAsync(response)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task OtherException_500NamingTheError()
    {
        await using var service = await TestService.StartAsync(ServiceJson, s => Handlers(s));

        using var response = await service.Http.SendAsync(TestService.Delivery("broken", "{}"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("database down", (await ProblemAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentLimitReached_429UntilTheFirstFinishes()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var service = await TestService.StartAsync(ServiceJson, s => Handlers(s, limited: async _ =>
        {
            entered.TrySetResult();
            await release.Task;
        }));

        var first = service.Http.SendAsync(TestService.Delivery("limited", "{}"));
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using var second = await service.Http.SendAsync(TestService.Delivery("limited", "{}"));
        release.SetResult();
        using var firstResponse = await first;
        using var third = await service.Http.SendAsync(TestService.Delivery("limited", "{}"));

        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Contains("rateLimitPerReplica", (await ProblemAsync(second)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, firstResponse.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, third.StatusCode);
    }

    [Fact]
    public async Task TraceParent_ContinuesIntoTheHandler()
    {
        ActivityTraceId? traceId = null;
        await using var service = await TestService.StartAsync(ServiceJson, s => Handlers(s, main: _ =>
        {
            traceId = Activity.Current?.TraceId;
            return Task.CompletedTask;
        }));

        using var request = TestService.Delivery("liveUsersUpdate", "{}");
        request.Headers.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        using var response = await service.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", traceId?.ToHexString());
    }

    [Fact]
    public async Task Ready_AnswersOk()
    {
        await using var service = await TestService.StartAsync(ServiceJson, s => Handlers(s));

        var text = await service.Http.GetStringAsync(new Uri(HeraldSdk.ReadyPath, UriKind.Relative));

        Assert.Equal("ok", text);
    }
}
