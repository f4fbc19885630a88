using System.Net;
using System.Text.Json;
using Herald.Broker;
using Herald.Storage.Nats.Tests.Fixtures;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Storage.Nats.Tests;

/// <summary>
/// A broker's health while its store goes away and comes back, on a nats-server of its own (killed with SIGKILL):
/// <c>/readyz</c> answers 503 naming the store, <c>/healthz</c> stays 200, and ready comes back with the server.
/// </summary>
public sealed class ReadinessTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly NatsServerProcess _server = new("readiness");
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("herald-readiness-");
    private readonly HttpClient _http = new();
    private WebApplication? _broker;

    public async Task InitializeAsync()
    {
        await _server.StartAsync();
        var builder = HeraldBroker.CreateBuilder(new BrokerOptions { Url = "http://127.0.0.1:0", DataDirectory = _data.FullName });
        builder.Logging.ClearProviders();
        builder.Services.AddHeraldNatsStore(o => o.Url = _server.ClientUrl);
        _broker = HeraldBroker.Build(builder);
        await _broker.StartAsync();
        var address = _broker.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _http.BaseAddress = new Uri(address);
    }

    public async Task DisposeAsync()
    {
        if (_broker is not null)
        {
            await _broker.StopAsync();
            await _broker.DisposeAsync();
        }

        _http.Dispose();
        await _server.DisposeAsync();
        _data.Delete(recursive: true);
    }

    private async Task<(HttpStatusCode Status, string Overall, string Store, string Delivery)> ReadyAsync()
    {
        using var response = await _http.GetAsync(new Uri("/readyz", UriKind.Relative));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var checks = body.RootElement.GetProperty("checks");
        return (response.StatusCode, body.RootElement.GetProperty("status").GetString()!,
            checks.GetProperty("store").GetProperty("status").GetString()!, checks.GetProperty("delivery").GetProperty("status").GetString()!);
    }

    private async Task<(HttpStatusCode Status, string Overall, string Store, string Delivery)> ReadyEventuallyAsync(HttpStatusCode status, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var ready = await ReadyAsync();
            if (ready.Status == status)
            {
                return ready;
            }

            Assert.True(DateTime.UtcNow < deadline, $"/readyz did not answer {(int)status} within {Patience.TotalSeconds} s for {what}; last {ready}.");
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    [Fact]
    public async Task Readyz_Is503NamingTheStoreWhileItIsAway_WhileHealthzStays200_AndReadyComesBackWithIt()
    {
        Assert.Equal((HttpStatusCode.OK, "Healthy", "Healthy", "Healthy"), await ReadyAsync());

        await _server.KillAsync();
        var away = await ReadyEventuallyAsync(HttpStatusCode.ServiceUnavailable, "a store that is away");
        using var live = await _http.GetAsync(new Uri("/healthz", UriKind.Relative));

        Assert.Equal(("Unhealthy", "Unhealthy", "Healthy"), (away.Overall, away.Store, away.Delivery));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("Healthy", await live.Content.ReadAsStringAsync());

        await _server.RestartAsync();
        Assert.Equal((HttpStatusCode.OK, "Healthy", "Healthy", "Healthy"), await ReadyEventuallyAsync(HttpStatusCode.OK, "the store back"));
    }
}
