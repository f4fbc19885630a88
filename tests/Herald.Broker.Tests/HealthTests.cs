using System.Net;
using System.Text.Json;
using Herald.Broker.Internal;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Herald.Broker.Tests;

/// <summary><c>/healthz</c> and <c>/readyz</c> on ASP.NET Core's health checks, without a token.</summary>
public sealed class HealthTests : IAsyncLifetime
{
    private BrokerHarness _broker = null!;

    public async Task InitializeAsync() => _broker = await BrokerHarness.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Healthz_AnswersHealthy_AndReadyz_ReportsEachCheckAsJson()
    {
        using var live = await _broker.Client.GetAsync(new Uri("/healthz", UriKind.Relative));
        using var ready = await _broker.Client.GetAsync(new Uri("/readyz", UriKind.Relative));

        Assert.Equal((HttpStatusCode.OK, "Healthy"), (live.StatusCode, await live.Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("application/json", ready.Content.Headers.ContentType?.MediaType);
        using var report = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", report.RootElement.GetProperty("status").GetString());
        var checks = report.RootElement.GetProperty("checks");
        Assert.Equal(["delivery", "store"], checks.EnumerateObject().Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.Equal("The store answers.", checks.GetProperty("store").GetProperty("description").GetString());
        Assert.Equal("Healthy", checks.GetProperty("delivery").GetProperty("status").GetString());
    }

    [Fact]
    public void AStoppedWorker_IsDegraded_NamingItsSubscription()
    {
        var result = DeliveryHealthCheck.Of(["acme/dev/vtex.listener/onThing"], []);

        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.StartsWith("Delivery has stopped for acme/dev/vtex.listener/onThing;", result.Description, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Healthy, DeliveryHealthCheck.Of([], []).Status);
    }

    [Fact]
    public void AQueueNotOpenYet_IsDegraded_NamingItsSubscription_AndSayingTheBrokerRetries()
    {
        var result = DeliveryHealthCheck.Of([], ["acme/dev/vtex.listener/onThing"]);

        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.StartsWith("The store could not open the queue of acme/dev/vtex.listener/onThing yet; the broker retries", result.Description, StringComparison.Ordinal);
    }
}
