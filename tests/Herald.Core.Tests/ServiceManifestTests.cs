using Herald.Delivery;
using Herald.Manifests;

namespace Herald.Core.Tests;

public sealed class ServiceManifestTests
{
    /// <summary>The tutorial's <c>node/service.json</c>, with its events block.</summary>
    private const string Tutorial = """
        {
          "memory": 128,
          "ttl": 10,
          "timeout": 10,
          "minReplicas": 2,
          "maxReplicas": 10,
          "workers": 4,
          "events": {
            "liveUsersUpdate": {
              "sender": "vtex.events-example",
              "keys": ["send-event"]
            }
          }
        }
        """;

    private static IReadOnlyList<ManifestError> Errors(string json, string file = ServiceManifest.FileName) =>
        Assert.Throws<ManifestException>(() => ServiceManifest.Parse(json, file)).Errors;

    private static ManifestError SingleError(string json) => Assert.Single(Errors(json));

    private static EventDeclaration OnlyEvent(string json) => Assert.Single(ServiceManifest.Parse(json).Events).Value;

    [Fact]
    public void Parse_TutorialServiceJson_ReadsRuntimeAndEvent()
    {
        var service = ServiceManifest.Parse(Tutorial);

        Assert.Equal(128, service.Memory);
        Assert.Equal(10, service.Ttl);
        Assert.Equal(10, service.Timeout);
        Assert.Equal(2, service.MinReplicas);
        Assert.Equal(10, service.MaxReplicas);
        Assert.Equal(4, service.Workers);
        Assert.Null(service.RateLimitPerReplica);
        Assert.Empty(service.Routes);

        var (id, handler) = Assert.Single(service.Events);
        Assert.Equal("liveUsersUpdate", id);
        Assert.Equal("liveUsersUpdate", handler.HandlerId);
        Assert.Equal("vtex.events-example", handler.Sender);
        Assert.Equal(["send-event"], handler.Keys);
        Assert.False(handler.KeysAreTopics);
        Assert.Null(handler.SettingsType);
        Assert.Null(handler.RateLimitPerReplica);
    }

    [Fact]
    public void Parse_EmptyObject_UsesTheDocumentedDefaults()
    {
        var service = ServiceManifest.Parse("{}");

        Assert.Equal(128, service.Memory);
        Assert.Equal(10, service.Ttl);
        Assert.Equal(10, service.Timeout);
        Assert.Equal(2, service.MinReplicas);
        Assert.Equal(10, service.MaxReplicas);
        Assert.Equal(1, service.Workers);
        Assert.Empty(service.Events);
        Assert.Empty(service.Routes);
    }

    [Fact]
    public void Parse_MinReplicasAboveTen_DefaultsMaxReplicasToMinReplicas()
    {
        var service = ServiceManifest.Parse("""{"minReplicas": 20}""");

        Assert.Equal(20, service.MaxReplicas);
    }

    [Fact]
    public void Parse_SchemaReference_IsAccepted()
    {
        var service = ServiceManifest.Parse("""{"$schema": "../../src/Herald.Core/Schemas/service.schema.json", "memory": 256}""");

        Assert.Equal(256, service.Memory);
    }

    [Theory]
    [InlineData("memory", 1, 1024)]
    [InlineData("ttl", 10, 60)]
    [InlineData("timeout", 1, 60)]
    [InlineData("workers", 1, 4)]
    [InlineData("minReplicas", 1, 10)]
    [InlineData("maxReplicas", 2, 80)]
    public void Parse_RangeBoundaries_AreAccepted(string field, int min, int max)
    {
        ServiceManifest.Parse($$"""{ "{{field}}": {{min}} }""");
        ServiceManifest.Parse($$"""{ "{{field}}": {{max}} }""");
    }

    [Theory]
    [InlineData("memory", 0, "must be a whole number from 1 to 1024")]
    [InlineData("memory", 1025, "must be a whole number from 1 to 1024")]
    [InlineData("ttl", 9, "must be a whole number from 10 to 60")]
    [InlineData("ttl", 61, "must be a whole number from 10 to 60")]
    [InlineData("timeout", 0, "must be a whole number from 1 to 60")]
    [InlineData("timeout", 61, "must be a whole number from 1 to 60")]
    [InlineData("workers", 0, "must be a whole number from 1 to 4")]
    [InlineData("workers", 5, "must be a whole number from 1 to 4")]
    [InlineData("minReplicas", 0, "must be a whole number from 1 to 80")]
    [InlineData("maxReplicas", 81, "must be a whole number from 1 to 80")]
    public void Parse_OutOfRange_NamesPathRuleAndValue(string field, int value, string rule)
    {
        var error = SingleError($$"""{ "{{field}}": {{value}} }""");

        Assert.Equal("$." + field, error.Path);
        Assert.Equal(rule, error.Rule);
        Assert.Equal(value.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Value);
    }

    [Theory]
    [InlineData("128.5")]
    [InlineData("\"128\"")]
    [InlineData("true")]
    [InlineData("[128]")]
    public void Parse_MemoryNotAWholeNumber_IsAnError(string value)
    {
        var error = SingleError($$"""{ "memory": {{value}} }""");

        Assert.Equal("$.memory", error.Path);
        Assert.Equal(value, error.Value);
    }

    [Fact]
    public void Parse_MaxReplicasBelowMinReplicas_IsAnError()
    {
        var error = SingleError("""{"minReplicas": 5, "maxReplicas": 4}""");

        Assert.Equal("$.maxReplicas", error.Path);
        Assert.Equal("must be at least minReplicas (5)", error.Rule);
        Assert.Equal("4", error.Value);
    }

    [Fact]
    public void Parse_MaxReplicasEqualToMinReplicas_IsAccepted()
    {
        var service = ServiceManifest.Parse("""{"minReplicas": 5, "maxReplicas": 5}""");

        Assert.Equal(5, service.MinReplicas);
        Assert.Equal(5, service.MaxReplicas);
    }

    [Fact]
    public void Parse_UnknownRootField_NamesThePath()
    {
        var error = SingleError("""{"memory": 128, "replicas": 3}""");

        Assert.Equal("$.replicas", error.Path);
        Assert.StartsWith("is not a known field; known fields here are ", error.Rule, StringComparison.Ordinal);
        Assert.Equal("3", error.Value);
    }

    [Fact]
    public void Parse_UnknownRouteField_NamesThePath()
    {
        var error = SingleError("""{"routes": {"hcheck": {"path": "/hcheck", "method": "GET"}}}""");

        Assert.Equal("$.routes.hcheck.method", error.Path);
        Assert.Contains("path, public, access, policies, rateLimitPerReplica", error.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownEventField_NamesThePath()
    {
        var error = SingleError("""{"events": {"liveUsersUpdate": {"keys": ["send-event"], "key": "send-event"}}}""");

        Assert.Equal("$.events.liveUsersUpdate.key", error.Path);
        Assert.Equal("\"send-event\"", error.Value);
    }

    [Fact]
    public void Parse_UnknownDeliveryField_NamesThePath()
    {
        var error = SingleError("""{"events": {"liveUsersUpdate": {"keys": ["send-event"], "delivery": {"foo": 1}}}}""");

        Assert.Equal("$.events.liveUsersUpdate.delivery.foo", error.Path);
        Assert.Contains("retries", error.Rule, StringComparison.Ordinal);
        Assert.Contains("maxEventAge", error.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownRateLimitField_NamesThePath()
    {
        var error = SingleError("""{"rateLimitPerReplica": {"perMinute": 10, "perSecond": 1}}""");

        Assert.Equal("$.rateLimitPerReplica.perSecond", error.Path);
    }

    [Fact]
    public void Parse_ErrorMessage_NamesTheFileGiven()
    {
        var ex = Assert.Throws<ManifestException>(() => ServiceManifest.Parse("""{"ttl": 5}""", "dotnet/service.json"));

        Assert.Equal("dotnet/service.json", Assert.Single(ex.Errors).File);
        Assert.Equal("dotnet/service.json: $.ttl: must be a whole number from 10 to 60 (found 5)", ex.Message);
    }

    [Fact]
    public void Parse_SeveralProblems_AreReportedTogether()
    {
        var errors = Errors("""
            {
              "memory": 2048,
              "color": "red",
              "events": {
                "a": { "sender": "vtex.", "keys": ["ok", "not ok"] },
                "b": { }
              }
            }
            """);

        Assert.Equal(
            ["$.color", "$.memory", "$.events.a.sender", "$.events.a.keys[1]", "$.events.b"],
            errors.Select(e => e.Path));
    }

    [Fact]
    public void Parse_InvalidJson_IsOneErrorAtTheRoot()
    {
        var error = SingleError("""{"memory": 128,,}""");

        Assert.Equal("$", error.Path);
        Assert.StartsWith("must be valid JSON", error.Rule, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("vtex.")]
    [InlineData("VTEX.events-example")]
    [InlineData("vtex.events-example@0.x")]
    [InlineData("Apps")]
    [InlineData("a.b.c")]
    public void Parse_BadSender_NamesTheSenderPath(string sender)
    {
        var error = SingleError($$"""{ "events": { "x": { "sender": "{{sender}}", "keys": ["send-event"] } } }""");

        Assert.Equal("$.events.x.sender", error.Path);
        Assert.Equal("must be " + Names.DeclaredSenderRule, error.Rule);
        Assert.Equal($"\"{sender}\"", error.Value);
    }

    [Fact]
    public void Parse_NoSender_MeansAnySender()
    {
        var handler = OnlyEvent("""{"events": {"x": {"keys": ["send-event"]}}}""");

        Assert.Null(handler.Sender);
    }

    [Theory]
    [InlineData("\"bad key\"")]
    [InlineData("\".dot\"")]
    [InlineData("\"\"")]
    [InlineData("7")]
    public void Parse_BadKey_NamesTheItemPath(string key)
    {
        var error = SingleError($$"""{ "events": { "x": { "keys": ["send-event", {{key}}] } } }""");

        Assert.Equal("$.events.x.keys[1]", error.Path);
        Assert.Equal("must be " + Names.KeyRule, error.Rule);
        Assert.Equal(key, error.Value);
    }

    [Fact]
    public void Parse_BadTopic_NamesTheItemPath()
    {
        var error = SingleError("""{"events": {"x": {"topics": ["a/b"]}}}""");

        Assert.Equal("$.events.x.topics[0]", error.Path);
    }

    [Fact]
    public void Parse_EmptyKeys_IsAnError()
    {
        var error = SingleError("""{"events": {"x": {"keys": []}}}""");

        Assert.Equal("$.events.x.keys", error.Path);
        Assert.Equal("must list at least one entry", error.Rule);
    }

    [Fact]
    public void Parse_KeysNotAnArray_IsAnError()
    {
        var error = SingleError("""{"events": {"x": {"keys": "send-event"}}}""");

        Assert.Equal("$.events.x.keys", error.Path);
        Assert.Equal("must be an array of strings", error.Rule);
    }

    [Fact]
    public void Parse_KeysAndTopicsBoth_IsAnError()
    {
        var error = SingleError("""{"events": {"x": {"keys": ["a"], "topics": ["b"]}}}""");

        Assert.Equal("$.events.x", error.Path);
        Assert.Equal("must have either 'keys' or 'topics', not both", error.Rule);
    }

    [Fact]
    public void Parse_NeitherKeysNorTopicsNorSender_IsAnError()
    {
        var error = SingleError("""{"events": {"x": {"delivery": {"retries": 1}}}}""");

        Assert.Equal("$.events.x", error.Path);
        Assert.StartsWith("must have 'keys' (or 'topics')", error.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Topics_AreReadAsKeysMarkedAsTopics()
    {
        var handler = OnlyEvent("""{"events": {"x": {"topics": ["broadcaster.notification", "order-created"]}}}""");

        Assert.Equal(["broadcaster.notification", "order-created"], handler.Keys);
        Assert.True(handler.KeysAreTopics);
    }

    [Theory]
    [InlineData("1handler", "$.events['1handler']")]
    [InlineData("has.dot", "$.events['has.dot']")]
    [InlineData("_x", "$.events._x")]
    public void Parse_BadHandlerId_NamesThePath(string id, string path)
    {
        var error = SingleError($$"""{ "events": { "{{id}}": { "keys": ["a"] } } }""");

        Assert.Equal(path, error.Path);
        Assert.Equal("has a handler id that must be " + Names.HandlerIdRule, error.Rule);
    }

    [Fact]
    public void Parse_EventsNotAnObject_IsAnError()
    {
        var error = SingleError("""{"events": ["liveUsersUpdate"]}""");

        Assert.Equal("$.events", error.Path);
    }

    [Fact]
    public void Parse_EventSettingsTypeAndRateLimit_AreRead()
    {
        var handler = OnlyEvent("""{"events": {"x": {"keys": ["a"], "settingsType": "userAndWorkspace", "rateLimitPerReplica": {"perMinute": 60, "concurrent": 3}}}}""");

        Assert.Equal("userAndWorkspace", handler.SettingsType);
        Assert.Equal(new RateLimit(60, 3), handler.RateLimitPerReplica);
    }

    [Fact]
    public void Parse_BadSettingsType_IsAnError()
    {
        var error = SingleError("""{"events": {"x": {"keys": ["a"], "settingsType": "account"}}}""");

        Assert.Equal("$.events.x.settingsType", error.Path);
        Assert.Equal("must be one of workspace, userAndWorkspace", error.Rule);
    }

    [Fact]
    public void Parse_NoDelivery_UsesTheDefaultPolicy()
    {
        var delivery = OnlyEvent("""{"timeout": 7, "events": {"x": {"keys": ["a"]}}}""").Delivery;

        Assert.Equal(7000, delivery.Timeout);
        Assert.Equal(10, delivery.Concurrency);
        Assert.Equal(8, delivery.Retries);
        Assert.Equal(9, delivery.MaxAttempts);
        Assert.Equal(1000, delivery.InitialBackoffDelay);
        Assert.Equal(2, delivery.ExponentialBackoffCoefficient);
        Assert.Equal(1, delivery.ExponentialTimeoutCoefficient);
        Assert.Equal(600_000, delivery.MaxBackoffDelay);
        Assert.Equal(86_400_000, delivery.MaxEventAge);
    }

    [Fact]
    public void Parse_TutorialDelivery_TimesOutAfterTheServiceTimeout()
    {
        var delivery = ServiceManifest.Parse(Tutorial).Events["liveUsersUpdate"].Delivery;

        Assert.Equal(10_000, delivery.Timeout);
        Assert.Equal(new DeliveryPolicy(), delivery);
    }

    [Fact]
    public void Parse_ServiceConcurrentLimit_IsTheDefaultDeliveryConcurrency()
    {
        var delivery = OnlyEvent("""{"rateLimitPerReplica": {"concurrent": 4}, "events": {"x": {"keys": ["a"]}}}""").Delivery;

        Assert.Equal(4, delivery.Concurrency);
    }

    [Fact]
    public void Parse_EventConcurrentLimit_WinsOverTheServiceLimit()
    {
        var delivery = OnlyEvent("""{"rateLimitPerReplica": {"concurrent": 4}, "events": {"x": {"keys": ["a"], "rateLimitPerReplica": {"concurrent": 2}}}}""").Delivery;

        Assert.Equal(2, delivery.Concurrency);
    }

    [Fact]
    public void Parse_EmptyDelivery_UsesTheDefaults()
    {
        var delivery = OnlyEvent("""{"timeout": 3, "events": {"x": {"keys": ["a"], "delivery": {}}}}""").Delivery;

        Assert.Equal(new DeliveryPolicy { Timeout = 3000 }, delivery);
    }

    [Fact]
    public void Parse_DeliveryOverrides_ReplaceEveryDefault()
    {
        var delivery = OnlyEvent("""
            {
              "rateLimitPerReplica": { "concurrent": 4 },
              "events": {
                "x": {
                  "keys": ["a"],
                  "delivery": {
                    "retries": 3,
                    "timeout": 2500,
                    "exponentialTimeoutCoefficient": 1.5,
                    "initialBackoffDelay": 50,
                    "exponentialBackoffCoefficient": 3,
                    "maxBackoffDelay": 60000,
                    "concurrency": 25,
                    "maxEventAge": 3600000
                  }
                }
              }
            }
            """).Delivery;

        Assert.Equal(
            new DeliveryPolicy
            {
                Retries = 3,
                Timeout = 2500,
                ExponentialTimeoutCoefficient = 1.5,
                InitialBackoffDelay = 50,
                ExponentialBackoffCoefficient = 3,
                MaxBackoffDelay = 60_000,
                Concurrency = 25,
                MaxEventAge = 3_600_000,
            },
            delivery);
    }

    [Fact]
    public void Parse_PartialDelivery_KeepsTheOtherDefaults()
    {
        var delivery = OnlyEvent("""{"timeout": 5, "events": {"x": {"keys": ["a"], "delivery": {"retries": 0}}}}""").Delivery;

        Assert.Equal(new DeliveryPolicy { Retries = 0, Timeout = 5000 }, delivery);
        Assert.Equal(1, delivery.MaxAttempts);
    }

    [Theory]
    [InlineData("retries", "-1", "must be a whole number from 0 to 100")]
    [InlineData("retries", "101", "must be a whole number from 0 to 100")]
    [InlineData("timeout", "0", "must be a whole number from 1 to 3600000")]
    [InlineData("timeout", "3600001", "must be a whole number from 1 to 3600000")]
    [InlineData("exponentialTimeoutCoefficient", "0.5", "must be a number from 1 to 10")]
    [InlineData("exponentialTimeoutCoefficient", "11", "must be a number from 1 to 10")]
    [InlineData("initialBackoffDelay", "-1", "must be a whole number from 0 to 3600000")]
    [InlineData("exponentialBackoffCoefficient", "\"2\"", "must be a number from 1 to 10")]
    [InlineData("maxBackoffDelay", "86400001", "must be a whole number from 0 to 86400000")]
    [InlineData("concurrency", "0", "must be a whole number from 1 to 1000")]
    [InlineData("concurrency", "1001", "must be a whole number from 1 to 1000")]
    [InlineData("maxEventAge", "999", "must be a whole number from 1000 to 2147483647")]
    [InlineData("maxEventAge", "2147483648", "must be a whole number from 1000 to 2147483647")]
    public void Parse_DeliveryOutOfRange_NamesPathRuleAndValue(string field, string value, string rule)
    {
        var error = SingleError($$"""{ "events": { "x": { "keys": ["a"], "delivery": { "{{field}}": {{value}} } } } }""");

        Assert.Equal("$.events.x.delivery." + field, error.Path);
        Assert.Equal(rule, error.Rule);
        Assert.Equal(value, error.Value);
    }

    [Fact]
    public void Parse_DeliveryNotAnObject_IsAnError()
    {
        var error = SingleError("""{"events": {"x": {"keys": ["a"], "delivery": 5}}}""");

        Assert.Equal("$.events.x.delivery", error.Path);
        Assert.Equal("must be an object", error.Rule);
    }

    [Fact]
    public void Parse_Routes_AreReadWithTheirPattern()
    {
        var service = ServiceManifest.Parse("""
            {
              "routes": {
                "hcheck": { "path": "/_v/app/events-example/hcheck", "public": true },
                "order": { "path": "/orders/:id", "access": "authorized", "policies": [], "rateLimitPerReplica": { "perMinute": 100 } }
              }
            }
            """);

        var hcheck = service.Routes["hcheck"];
        Assert.Equal("hcheck", hcheck.Id);
        Assert.Equal("/_v/app/events-example/hcheck", hcheck.Path.Text);
        Assert.True(hcheck.Public);
        Assert.Null(hcheck.Access);

        var order = service.Routes["order"];
        Assert.False(order.Public);
        Assert.Equal("authorized", order.Access);
        Assert.Equal(new RateLimit(100, null), order.RateLimitPerReplica);
        Assert.Equal("42", order.Path.Match("/orders/42")!["id"]);
    }

    [Theory]
    [InlineData("/events")]
    [InlineData("/events/hook")]
    [InlineData("/_events")]
    [InlineData("/_events/anything")]
    public void Parse_RouteStartingWithReservedSegment_IsRejected(string path)
    {
        var error = SingleError($$"""{ "routes": { "r": { "path": "{{path}}" } } }""");

        Assert.Equal("$.routes.r.path", error.Path);
        Assert.Equal("must be " + RoutePattern.Rule, error.Rule);
        Assert.Equal($"\"{path}\"", error.Value);
    }

    [Fact]
    public void Parse_RouteWithReservedWordLater_IsAccepted()
    {
        var service = ServiceManifest.Parse("""{"routes": {"r": {"path": "/app/events/_events"}}}""");

        Assert.Equal("/app/events/_events", service.Routes["r"].Path.Text);
    }

    [Fact]
    public void Parse_RouteWithoutPath_IsAnError()
    {
        var error = SingleError("""{"routes": {"r": {"public": true}}}""");

        Assert.Equal("$.routes.r.path", error.Path);
        Assert.Equal("is required", error.Rule);
    }

    [Fact]
    public void Parse_RouteBadAccessOrPublic_AreErrors()
    {
        var errors = Errors("""{"routes": {"r": {"path": "/r", "public": "yes", "access": "everyone", "policies": {}}}}""");

        Assert.Equal(["$.routes.r.public", "$.routes.r.access", "$.routes.r.policies"], errors.Select(e => e.Path));
    }

    [Fact]
    public void Parse_BadRouteId_NamesThePath()
    {
        var error = SingleError("""{"routes": {"9lives": {"path": "/r"}}}""");

        Assert.Equal("$.routes['9lives']", error.Path);
    }

    [Fact]
    public void Parse_ServiceRateLimit_IsReadAndRangeChecked()
    {
        Assert.Equal(new RateLimit(600, 20), ServiceManifest.Parse("""{"rateLimitPerReplica": {"perMinute": 600, "concurrent": 20}}""").RateLimitPerReplica);

        var error = SingleError("""{"rateLimitPerReplica": {"concurrent": 0}}""");
        Assert.Equal("$.rateLimitPerReplica.concurrent", error.Path);
    }

    [Fact]
    public void Parse_NullField_IsTreatedAsAbsent()
    {
        var service = ServiceManifest.Parse("""{"memory": null, "events": null}""");

        Assert.Equal(128, service.Memory);
        Assert.Empty(service.Events);
    }
}
