using Herald.Manifests;

namespace Herald.Sdk.Tests;

/// <summary>The apps shipped with the repository have valid manifests that declare what their code handles.</summary>
public sealed class SampleManifestTests
{
    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Herald.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Herald.slnx not found above " + AppContext.BaseDirectory);
    }

    private static (AppManifest App, ServiceManifest Service) Load(string folder)
    {
        var root = Path.Combine(RepositoryRoot(), folder);
        return (
            AppManifest.Parse(File.ReadAllText(Path.Combine(root, "manifest.json"))),
            ServiceManifest.Parse(File.ReadAllText(Path.Combine(root, "dotnet", "service.json")), "dotnet/service.json"));
    }

    [Fact]
    public void EventsExample_DeclaresTheHealthcheckRoute()
    {
        var (app, service) = Load("samples/events-example");

        Assert.Equal("vtex.events-example", app.SenderId);
        var route = service.Routes["hcheck"];
        Assert.True(route.Public);
        Assert.NotNull(route.Path.Match("/_v/app/events-example/hcheck"));
        Assert.Empty(service.Events);
    }

    [Fact]
    public void LiveUsers_ListensToSendEventFromEventsExample()
    {
        var (app, service) = Load("samples/live-users");

        Assert.Equal("vtex.live-users", app.SenderId);
        var handler = service.Events["liveUsersUpdate"];
        Assert.Equal("vtex.events-example", handler.Sender);
        Assert.Equal(["send-event"], handler.Keys);
        Assert.Equal((128, 10, 10, 2, 10, 4), (service.Memory, service.Ttl, service.Timeout, service.MinReplicas, service.MaxReplicas, service.Workers));
    }

    [Fact]
    public void TestSubscriber_HasTheHandlersAndRoutesTheEndToEndTestsUse()
    {
        var (app, service) = Load("tests/apps/test-subscriber");

        Assert.Equal("test.subscriber", app.SenderId);
        var anyKey = service.Events["anyKey"];
        Assert.Null(anyKey.Sender);
        Assert.Equal(["test-event"], anyKey.Keys);
        Assert.Equal(3, anyKey.Delivery.Retries);
        Assert.Equal(TimeSpan.FromMilliseconds(4000), anyKey.Delivery.AttemptTimeout(2));
        Assert.Equal(200, anyKey.Delivery.InitialBackoffDelay);
        Assert.Equal("vtex.events-example", service.Events["fromExample"].Sender);
        Assert.NotNull(service.Routes["fix"].Path.Match("/_v/test/fix"));
        Assert.NotNull(service.Routes["received"].Path.Match("/_v/test/received"));
    }
}
