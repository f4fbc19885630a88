using Herald.Delivery;
using Herald.Manifests;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Sdk.Tests;

public sealed class StartupTests
{
    private static void Add(string serviceJson, Action<HeraldService> configure, Action<Dictionary<string, string?>>? settings = null)
    {
        using var folder = new AppFolder(serviceJson);
        var values = TestService.DefaultSettings(folder);
        settings?.Invoke(values);
        var builder = TestService.CreateBuilder(values);
        builder.AddHeraldService(configure);
    }

    [Fact]
    public void RouteInCodeMissingFromServiceJson_FailsNamingIdAndFile()
    {
        var error = Assert.Throws<HeraldConfigurationException>(() => Add("{}", s => s.Routes["hcheck"] = _ => Task.CompletedTask));

        Assert.Contains("'hcheck'", error.Message, StringComparison.Ordinal);
        Assert.Contains("dotnet/service.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidClientOptions_FailAtStartup_NamingEveryFieldRuleAndValue()
    {
        var error = Assert.Throws<HeraldConfigurationException>(() => Add("{}", s =>
        {
            s.Clients.Default = new ClientOptions { Timeout = 0, Retries = -1 };
            s.Clients.Options["events"] = new ClientOptions { ExponentialBackoffCoefficient = 0.5, Concurrency = 0 };
            s.Clients.Options["catalog"] = new ClientOptions { Timeout = 500 };
        }));

        Assert.Contains("(4 problems)", error.Message, StringComparison.Ordinal);
        Assert.Contains("service.Clients.Default.Retries must be from 0 to 100; found -1.", error.Message, StringComparison.Ordinal);
        Assert.Contains("service.Clients.Default.Timeout must be from 1 to 3600000 ms; found 0.", error.Message, StringComparison.Ordinal);
        Assert.Contains("service.Clients.Options[\"events\"].ExponentialBackoffCoefficient must be from 1 to 10; found 0.5.", error.Message, StringComparison.Ordinal);
        Assert.Contains("service.Clients.Options[\"events\"].Concurrency must be from 1 to 10000 requests at once; found 0.", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("catalog", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EventInCodeMissingFromServiceJson_Fails()
    {
        var error = Assert.Throws<HeraldConfigurationException>(() => Add("{}", s => s.Events["orphan"] = _ => Task.CompletedTask));

        Assert.Contains("'orphan'", error.Message, StringComparison.Ordinal);
        Assert.Contains("dotnet/service.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EventInServiceJsonWithoutHandler_Fails()
    {
        var error = Assert.Throws<HeraldConfigurationException>(() => Add("""{"events": {"liveUsersUpdate": {"keys": ["send-event"]}}}""", _ => { }));

        Assert.Contains("'liveUsersUpdate'", error.Message, StringComparison.Ordinal);
        Assert.Contains("service.Events", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EventsWithoutSigningSecret_FailsSayingToLink()
    {
        var error = Assert.Throws<HeraldConfigurationException>(() => Add(
            """{"events": {"liveUsersUpdate": {"keys": ["send-event"]}}}""",
            s => s.Events["liveUsersUpdate"] = _ => Task.CompletedTask,
            values => values.Remove(HeraldAppSettings.SigningSecretsKey)));

        Assert.Contains("herald link", error.Message, StringComparison.Ordinal);
        Assert.Contains(HeraldAppSettings.SigningSecretsKey, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidServiceJson_FailsWithManifestErrors()
    {
        var error = Assert.Throws<ManifestException>(() => Add("""{"memory": 5000, "colour": "red"}""", _ => { }));

        Assert.Contains("dotnet/service.json", error.Message, StringComparison.Ordinal);
        Assert.Contains("colour", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingAppRoot_FailsSayingWhatToSet()
    {
        var error = Assert.Throws<HeraldConfigurationException>(() => Add("{}", _ => { }, values => values[HeraldAppSettings.AppRootKey] = "/nonexistent/herald-app"));

        Assert.Contains(HeraldAppSettings.AppRootKey, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadSigningSecret_Fails()
    {
        var error = Assert.Throws<HeraldConfigurationException>(() => Add("{}", _ => { }, values => values[HeraldAppSettings.SigningSecretsKey] = "hunter2"));

        Assert.Contains(HeraldAppSettings.SigningSecretsKey, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }
}
