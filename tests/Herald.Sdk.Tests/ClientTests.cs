using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Herald.Delivery;
using Herald.Sdk.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Herald.Sdk.Tests;

public sealed class ClientTests
{
    private static async Task<(WebApplicationHandle Handle, HeraldClients Clients)> ClientsAsync(Uri brokerUrl, Action<HeraldClientsOptions> options)
    {
        var folder = new AppFolder("{}");
        var values = TestService.DefaultSettings(folder);
        values[HeraldAppSettings.BrokerUrlKey] = brokerUrl.ToString();
        var builder = TestService.CreateBuilder(values);
        builder.AddHeraldService(s => options(s.Clients));
        var app = builder.Build();
        await app.StartAsync();
        return (new WebApplicationHandle(app, folder), app.Services.GetRequiredService<HeraldClients>());
    }

    private static async Task Answer(HttpContext http, int status, string? body = null)
    {
        http.Response.StatusCode = status;
        if (body is not null)
        {
            http.Response.ContentType = status >= 400 ? "application/problem+json" : "application/json";
            await http.Response.WriteAsync(body);
        }
    }

    [Fact]
    public void Resolve_NamedOverDefaultOverLibraryDefaults()
    {
        var options = new HeraldClientsOptions { Default = new ClientOptions { Retries = 2, Timeout = 10000 } };
        options.Options["events"] = new ClientOptions { Timeout = 3000, ExponentialTimeoutCoefficient = 2, InitialBackoffDelay = 50, Retries = 1, Concurrency = 10 };

        var events = options.Resolve("events");
        var other = options.Resolve("catalog");

        Assert.Equal(1, events.Retries);
        Assert.Equal(3000, events.Timeout);
        Assert.Equal(50, events.InitialBackoffDelay);
        Assert.Equal(10, events.Concurrency);
        Assert.Equal(ClientOptions.LibraryDefaults.ExponentialBackoffCoefficient, events.ExponentialBackoffCoefficient);
        Assert.Equal(2, other.Retries);
        Assert.Equal(10000, other.Timeout);
        Assert.Null(other.Concurrency);
        Assert.Equal(ClientOptions.LibraryDefaults.InitialBackoffDelay, other.InitialBackoffDelay);
    }

    [Fact]
    public async Task IdempotentRequest_RetriedOn500ThenSucceeds()
    {
        await using var server = await RecordingServer.StartAsync((call, http) => Answer(http, call <= 2 ? 500 : 200, "{}"));
        var (handle, clients) = await ClientsAsync(server.Address, o => o.Options["catalog"] = new ClientOptions { Retries = 2, InitialBackoffDelay = 1, Timeout = 30000 });
        await using var _ = handle;

        using var response = await clients.CreateHttpClient("catalog").GetAsync(new Uri(server.Address, "/products/1"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task RetriesExhausted_LastAnswerReturned()
    {
        await using var server = await RecordingServer.StartAsync((_, http) => Answer(http, 503));
        var (handle, clients) = await ClientsAsync(server.Address, o => o.Default = new ClientOptions { Retries = 2, InitialBackoffDelay = 1, Timeout = 30000 });
        await using var _ = handle;

        using var response = await clients.CreateHttpClient("anything").GetAsync(new Uri(server.Address, "/x"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task ClientError400_NotRetried()
    {
        await using var server = await RecordingServer.StartAsync((_, http) => Answer(http, 400));
        var (handle, clients) = await ClientsAsync(server.Address, o => o.Default = new ClientOptions { Retries = 3, InitialBackoffDelay = 1, Timeout = 30000 });
        await using var _ = handle;

        using var response = await clients.CreateHttpClient().GetAsync(new Uri(server.Address, "/x"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Post_NotRetriedOn500()
    {
        await using var server = await RecordingServer.StartAsync((_, http) => Answer(http, 500));
        var (handle, clients) = await ClientsAsync(server.Address, o => o.Default = new ClientOptions { Retries = 3, InitialBackoffDelay = 1, Timeout = 30000 });
        await using var _ = handle;

        using var content = new StringContent("{}");
        using var response = await clients.CreateHttpClient().PostAsync(new Uri(server.Address, "/x"), content);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task AttemptTimeouts_GrowByTheCoefficient()
    {
        var schedule = ClientOptions.Resolve(new ClientOptions { Timeout = 3000, ExponentialTimeoutCoefficient = 2 }, null).ToSchedule();
        var options = ClientPipeline.CreateTimeoutOptions(schedule);
        var context = ResilienceContextPool.Shared.Get();

        var timeouts = new List<TimeSpan>();
        for (var i = 0; i < 4; i++)
        {
            timeouts.Add(await options.TimeoutGenerator!(new TimeoutGeneratorArguments(context)));
        }

        Assert.Equal([3000d, 6000d, 12000d, 24000d], timeouts.Select(t => t.TotalMilliseconds));
        ResilienceContextPool.Shared.Return(context);
    }

    [Fact]
    public async Task BackoffDelays_ExponentialWithAtMostTwentyPercentJitter()
    {
        var schedule = ClientOptions.Resolve(new ClientOptions { Retries = 3, InitialBackoffDelay = 50, ExponentialBackoffCoefficient = 2 }, null).ToSchedule();
        var options = ClientPipeline.CreateRetryOptions(schedule);
        var context = ResilienceContextPool.Shared.Get();
        var outcome = Outcome.FromResult(new HttpResponseMessage(HttpStatusCode.InternalServerError));

        for (var retry = 0; retry < 3; retry++)
        {
            var delay = (await options.DelayGenerator!(new RetryDelayGeneratorArguments<HttpResponseMessage>(context, outcome, retry)))!.Value;
            var floor = 50 * Math.Pow(2, retry);
            Assert.InRange(delay.TotalMilliseconds, floor, floor * 1.2);
        }

        Assert.Equal(3, options.MaxRetryAttempts);
        ResilienceContextPool.Shared.Return(context);
    }

    [Theory]
    [InlineData("GET", 500, true)]
    [InlineData("PUT", 503, true)]
    [InlineData("DELETE", 504, true)]
    [InlineData("GET", 408, false)]
    [InlineData("HEAD", 429, false)]
    [InlineData("GET", 404, false)]
    [InlineData("POST", 500, false)]
    [InlineData("PATCH", 502, false)]
    public void ShouldRetry_IdempotentMethodsOn5xxOnly_Not408Or429(string method, int status, bool expected)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), "http://127.0.0.1/");
        using var response = new HttpResponseMessage((HttpStatusCode)status);

        Assert.Equal(expected, ClientPipeline.ShouldRetry(Outcome.FromResult(response), request));
    }

    [Fact]
    public void ShouldRetry_PostWithIdempotencyKeyAndTimeouts()
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1/");
        post.Headers.Add("Idempotency-Key", "k");
        using var get = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1/");

        Assert.True(ClientPipeline.ShouldRetry(Outcome.FromException<HttpResponseMessage>(new TimeoutRejectedException()), post));
        Assert.True(ClientPipeline.ShouldRetry(Outcome.FromException<HttpResponseMessage>(new HttpRequestException("reset")), get));
        Assert.False(ClientPipeline.ShouldRetry(Outcome.FromException<HttpResponseMessage>(new InvalidOperationException()), get));
    }

    [Fact]
    public async Task AttemptTimeout_RetriesAHangingServer()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hung = 0;
        await using var server = await RecordingServer.StartAsync(async (_, http) =>
        {
            if (Interlocked.Exchange(ref hung, 1) == 0)
            {
                await release.Task.WaitAsync(http.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                return;
            }

            await Answer(http, 200, "{}");
        });

        // Attempts time out after 200 ms, 2 s and 20 s: the first request to arrive hangs until its attempt times out.
        var (handle, clients) = await ClientsAsync(server.Address, o => o.Default = new ClientOptions { Retries = 2, InitialBackoffDelay = 1, Timeout = 200, ExponentialTimeoutCoefficient = 10 });
        await using var _ = handle;

        using var response = await clients.CreateHttpClient().GetAsync(new Uri(server.Address, "/slow"));
        release.TrySetResult();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.InRange(server.Requests.Count, 2, 3);
    }

    [Fact]
    public async Task EventsClient_PutsWithHeadersAndStableIdempotencyKeyAcrossRetries()
    {
        await using var server = await RecordingServer.StartAsync((call, http) =>
            call == 1 ? Answer(http, 503) : Answer(http, 202, """{"id":"0196a1b2-0000-7000-8000-000000000001","deliveries":2}"""));
        var (handle, clients) = await ClientsAsync(server.Address, o => o.Options["events"] = new ClientOptions { Retries = 1, InitialBackoffDelay = 1, Timeout = 30000 });
        await using var _ = handle;

        using var activity = new Activity("publish").SetIdFormat(ActivityIdFormat.W3C).Start();
        var id = await clients.Events.SendEventAsync("send-event", new { random = 7 }, subject: "order 1");
        var again = await clients.Events.SendEventAsync("send-event", new { random = 8 });

        Assert.Equal("0196a1b2-0000-7000-8000-000000000001", id);
        Assert.Equal(id, again);
        var requests = server.Requests.ToArray();
        Assert.Equal(3, requests.Length);
        Assert.All(requests, r => Assert.Equal("PUT", r.Method));
        Assert.Equal("/acme/dev/events/send-event?resource=order%201", requests[0].PathAndQuery);
        Assert.Equal("/acme/dev/events/send-event", requests[2].PathAndQuery);
        Assert.All(requests, r => Assert.Equal("Bearer app-token", r.Headers["authorization"]));
        Assert.All(requests, r => Assert.StartsWith("application/json", r.Headers["content-type"], StringComparison.Ordinal));
        Assert.Equal("""{"random":7}""", requests[0].Body);
        Assert.Equal(requests[0].Body, requests[1].Body);
        Assert.Equal(requests[0].Headers["idempotency-key"], requests[1].Headers["idempotency-key"]);
        Assert.NotEqual(requests[0].Headers["idempotency-key"], requests[2].Headers["idempotency-key"]);
        Assert.Contains(activity.TraceId.ToHexString(), requests[0].Headers["traceparent"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task EventsClient_BoundToAContext_UsesItsAccountWorkspaceAndCredential()
    {
        await using var server = await RecordingServer.StartAsync((_, http) => Answer(http, 202, """{"id":"e1","deliveries":0}"""));
        var (handle, clients) = await ClientsAsync(server.Address, o => o.Default = new ClientOptions { Timeout = 30000 });
        await using var _ = handle;

        var bound = clients.For(new Internal.ContextScope("globex", "master", "ctx-token"));
        await bound.Events.SendEventAsync("order.created", JsonDocument.Parse("[1,2]").RootElement);

        var request = Assert.Single(server.Requests);
        Assert.Equal("/globex/master/events/order.created", request.PathAndQuery);
        Assert.Equal("Bearer ctx-token", request.Headers["authorization"]);
        Assert.Equal("[1,2]", request.Body);
    }

    [Fact]
    public async Task EventsClient_Refused_ThrowsWithStatusAndDetail()
    {
        await using var server = await RecordingServer.StartAsync((_, http) =>
            Answer(http, 403, """{"status":403,"title":"Forbidden","detail":"The token is for acme/master, not acme/dev."}"""));
        var (handle, clients) = await ClientsAsync(server.Address, o => o.Default = new ClientOptions { Retries = 2, InitialBackoffDelay = 1, Timeout = 30000 });
        await using var _ = handle;

        var error = await Assert.ThrowsAsync<HeraldClientException>(() => clients.Events.SendEventAsync("send-event", new { a = 1 }));

        Assert.Equal(403, error.StatusCode);
        Assert.Equal("The token is for acme/master, not acme/dev.", error.Detail);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task EventsClient_BodyNotObjectOrArray_Rejected()
    {
        await using var server = await RecordingServer.StartAsync((_, http) => Answer(http, 202, """{"id":"e1"}"""));
        var (handle, clients) = await ClientsAsync(server.Address, o => o.Default = new ClientOptions { Timeout = 30000 });
        await using var _ = handle;

        await Assert.ThrowsAsync<ArgumentException>(() => clients.Events.SendEventAsync("send-event", 42));
        Assert.Empty(server.Requests);
    }
}

public sealed class WebApplicationHandle(Microsoft.AspNetCore.Builder.WebApplication app, AppFolder folder) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        folder.Dispose();
    }
}
