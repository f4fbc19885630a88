using Herald.Manifests;

namespace Herald.Core.Tests;

/// <summary>
/// Manifests as VTEX IO apps write them (after VTEX's documented examples and its own apps): every field VTEX IO
/// accepts is accepted, the ones Herald has no use for are ignored, and a wrong value still names its path.
/// </summary>
public sealed class VtexManifestTests
{
    /// <summary>A .NET app's service.json in VTEX IO's form: stack, runtime arguments, a platform sender, a sender-only handler.</summary>
    private const string DotnetService = """
        {
          "stack": "dotnet",
          "memory": 256,
          "runtimeArgs": [],
          "routes": {
            "processNotification": { "path": "/availability-notify/notify", "public": true }
          },
          "events": {
            "onAppsLinked": { "sender": "apps", "keys": ["linked"] },
            "broadcasterCatalog": { "sender": "vtex.broadcaster-adapter" }
          }
        }
        """;

    /// <summary>A node app's service.json with the route options of @vtex/api's ServiceRoute and an event subject.</summary>
    private const string NodeService = """
        {
          "stack": "nodejs",
          "memory": 256,
          "ttl": 10,
          "timeout": 2,
          "minReplicas": 2,
          "maxReplicas": 4,
          "workers": 1,
          "cpu": { "type": "shared", "value": 5, "scalingPercentage": 95 },
          "runtimeArgs": ["--max_old_space_size=230"],
          "routes": {
            "status": { "path": "/_v/status/:code", "public": true, "smartcache": true, "extensible": false, "settingsType": "workspace" },
            "admin": { "path": "/_v/private/admin", "settingsType": "pure" }
          },
          "events": {
            "onSettingsChanged": { "sender": "apps", "keys": ["settings"], "subject": "vtex.store" }
          }
        }
        """;

    private const string Manifest = """
        {
          "name": "payment-provider-example",
          "vendor": "vtex",
          "version": "1.4.0",
          "title": "Payment Provider Example",
          "description": "A payment connector",
          "mustUpdateAt": "2018-01-04",
          "categories": [],
          "registries": ["smartcheckout"],
          "settingsSchema": { "title": "Settings", "type": "object", "properties": { "key": { "type": "string" } } },
          "builders": { "paymentProvider": "1.x", "node": "6.x", "dotnet": "2.x", "graphql": "1.x", "docs": "0.x" },
          "scripts": { "prereleasy": "bash pre.sh" },
          "credentialType": "absolute",
          "policies": [
            { "name": "outbound-access", "attrs": { "host": "{{account}}.vtexcommercestable.com.br", "path": "/api/dataentities/*" } },
            { "name": "ADMIN_DS" },
            { "name": "vbase-read-write" }
          ],
          "dependencies": { "vtex.payment-provider": "1.x" },
          "billingOptions": { "termsURL": "https://example.com/terms", "support": { "url": "https://example.com" }, "free": true },
          "$schema": "https://raw.githubusercontent.com/vtex/node-vtex-api/master/gen/manifest.schema"
        }
        """;

    [Fact]
    public void ADotnetServiceJson_InVtexForm_IsAccepted()
    {
        var service = ServiceManifest.Parse(DotnetService);

        Assert.Equal("apps", service.Events["onAppsLinked"].Sender);
        var senderOnly = service.Events["broadcasterCatalog"];
        Assert.Equal("vtex.broadcaster-adapter", senderOnly.Sender);
        Assert.Empty(senderOnly.Keys);
        Assert.True(service.Routes["processNotification"].Public);
    }

    [Fact]
    public void ANodeServiceJson_WithEveryRouteOption_IsAccepted()
    {
        var service = ServiceManifest.Parse(NodeService);

        Assert.Equal(2, service.Timeout);
        Assert.Equal(["status", "admin"], service.Routes.Keys);
        Assert.Equal(["settings"], service.Events["onSettingsChanged"].Keys);
    }

    [Fact]
    public void AManifestWithEveryVtexField_AndCamelCaseBuilders_IsAccepted()
    {
        var manifest = AppManifest.Parse(Manifest);

        Assert.Equal("1.x", manifest.Builders["paymentProvider"]);
        Assert.Equal("vtex.payment-provider-example", manifest.SenderId);
    }

    [Theory]
    [InlineData("\"stack\": \"dotnet\"", "\"stack\": \"java\"", "$.stack")]
    [InlineData("\"runtimeArgs\": []", "\"runtimeArgs\": [1]", "$.runtimeArgs[0]")]
    [InlineData("\"runtimeArgs\": []", "\"runtimeArgs\": \"--x\"", "$.runtimeArgs")]
    [InlineData("\"sender\": \"apps\"", "\"sender\": \"Apps\"", "$.events.onAppsLinked.sender")]
    [InlineData("\"public\": true", "\"public\": \"yes\"", "$.routes.processNotification.public")]
    public void AMutatedDotnetServiceJson_IsRefused_AtThePathOfTheMutation(string original, string mutated, string path)
    {
        AssertRefusedAt(path, DotnetService, original, mutated, json => ServiceManifest.Parse(json));
    }

    [Theory]
    [InlineData("\"smartcache\": true", "\"smartcache\": 1", "$.routes.status.smartcache")]
    [InlineData("\"settingsType\": \"pure\"", "\"settingsType\": \"everything\"", "$.routes.admin.settingsType")]
    [InlineData("\"subject\": \"vtex.store\"", "\"subject\": 7", "$.events.onSettingsChanged.subject")]
    [InlineData("\"cpu\": { \"type\": \"shared\", \"value\": 5, \"scalingPercentage\": 95 }", "\"cpu\": \"shared\"", "$.cpu")]
    [InlineData("\"sender\": \"apps\", \"keys\": [\"settings\"], ", "", "$.events.onSettingsChanged")]
    public void AMutatedNodeServiceJson_IsRefused_AtThePathOfTheMutation(string original, string mutated, string path)
    {
        AssertRefusedAt(path, NodeService, original, mutated, json => ServiceManifest.Parse(json));
    }

    [Theory]
    [InlineData("\"paymentProvider\": \"1.x\"", "\"payment provider\": \"1.x\"", "$.builders['payment provider']")]
    [InlineData("\"paymentProvider\": \"1.x\"", "\"paymentProvider\": \"latest\"", "$.builders.paymentProvider")]
    [InlineData("\"version\": \"1.4.0\"", "\"version\": \"1.4\"", "$.version")]
    [InlineData("{ \"name\": \"ADMIN_DS\" }", "{ \"name\": \"\" }", "$.policies[1].name")]
    public void AMutatedManifest_IsRefused_AtThePathOfTheMutation(string original, string mutated, string path)
    {
        AssertRefusedAt(path, Manifest, original, mutated, json => AppManifest.Parse(json));
    }

    /// <summary>The document with <paramref name="original"/> replaced by <paramref name="mutated"/> gets one error, at <paramref name="path"/>.</summary>
    private static void AssertRefusedAt(string path, string document, string original, string mutated, Action<string> parse)
    {
        Assert.Contains(original, document, StringComparison.Ordinal);

        var error = Assert.Single(Assert.Throws<ManifestException>(() => parse(document.Replace(original, mutated, StringComparison.Ordinal))).Errors);

        Assert.Equal(path, error.Path);
    }
}
