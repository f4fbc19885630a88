using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Herald.Broker.Admin;

namespace Herald.Broker.Tests;

/// <summary>
/// The broker's data folder on a small tmpfs that fills up: publish answers 503, never a 202 for an event it
/// could not store, and works again without a restart once the filesystem has room.
/// </summary>
public sealed class FullDiskTests : IAsyncLifetime
{
    private readonly string _mount = Directory.CreateTempSubdirectory("herald-full-disk-").FullName;

    public async Task InitializeAsync() => await RunAsync("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", _mount);

    public async Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await RunAsync("umount", _mount);
        Directory.Delete(_mount);
    }

    private static async Task RunAsync(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} failed: {error}");
    }

    [Fact]
    public async Task FullDisk_Publish503sAndNeverAccepts_ThenWorksAgainWhenSpaceReturns()
    {
        await using var broker = await BrokerHarness.StartAsync(dataDirectory: _mount, configure: o => o.PublishPermitsPerSecond = o.PublishBurst = 100_000);
        await using var app = await FakeApp.StartAsync();
        app.Respond = (_, _) => Task.FromResult(Microsoft.AspNetCore.Http.Results.StatusCode(503));
        await broker.LinkAsync("acme", "dev", "vtex", "live-users", """{"events":{"h":{"keys":["k"],"delivery":{"retries":100,"initialBackoffDelay":3600000}}}}""", app.Endpoint);
        var token = (await broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", app.Endpoint)).Token;
        var body = $$"""{"padding":"{{new string('x', 60_000)}}"}""";

        var accepted = 0;
        var unavailable = 0;
        for (var i = 0; i < 200 && unavailable < 3; i++)
        {
            using var response = await broker.PublishAsync(token, "acme", "dev", "k", body);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                Assert.Equal(0, unavailable);
                accepted++;
            }
            else
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                unavailable++;
            }
        }

        Assert.True(accepted > 0, "some events fit before the disk filled");
        Assert.Equal(3, unavailable);

        await RunAsync("mount", "-o", "remount,size=64m", _mount);
        using var afterSpace = await broker.PublishAsync(token, "acme", "dev", "k", """{"n":"after"}""");

        Assert.Equal(HttpStatusCode.Accepted, afterSpace.StatusCode);
        var subscription = await Eventually.ReturnsAsync(() => broker.SubscriptionAsync("acme", "dev", "acme/dev/vtex.live-users/h"), s => s.InFlight == 0, "settled");
        Assert.Equal(accepted + 1, subscription.Pending + subscription.Delivered + subscription.Dead);
    }
}
