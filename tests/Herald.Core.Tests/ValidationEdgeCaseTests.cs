using Herald.Delivery;
using Herald.Manifests;

namespace Herald.Core.Tests;

/// <summary>Edge cases found by review, each fixed after its test failed.</summary>
public sealed class ValidationEdgeCaseTests
{
    [Fact]
    public void Names_TrailingNewline_IsRejected()
    {
        Assert.False(Names.IsAccount("acme\n"));
        Assert.False(Names.IsWorkspace("acme\n"));
        Assert.False(Names.IsKey("send-event\n"));
        Assert.False(Names.IsHandlerId("liveUsersUpdate\n"));
        Assert.False(Names.IsAppName("app\n"));
        Assert.False(Names.IsSender("vtex.events-example\n"));
    }

    [Fact]
    public void AppManifest_VersionWithTrailingNewline_IsRejected() =>
        Assert.Throws<ManifestException>(() => AppManifest.Parse("{\"vendor\":\"acme\",\"name\":\"app\",\"version\":\"1.0.0\\n\"}"));

    [Fact]
    public void ServiceManifest_KeyWithTrailingNewline_IsRejected()
    {
        var ex = Assert.Throws<ManifestException>(() => ServiceManifest.Parse("{\"events\":{\"x\":{\"keys\":[\"send-event\\n\"]}}}"));
        Assert.Equal("$.events.x.keys[0]", Assert.Single(ex.Errors).Path);
    }

    [Fact]
    public void Parse_EventRateLimitWithoutConcurrent_KeepsTheServiceConcurrentAsDeliveryConcurrency() =>
        Assert.Equal(4, ServiceManifest.Parse("""{"rateLimitPerReplica": {"concurrent": 4}, "events": {"x": {"keys": ["a"], "rateLimitPerReplica": {"perMinute": 60}}}}""").Events["x"].Delivery.Concurrency);

    [Fact]
    public void BackoffDelay_ZeroInitialDelayAndHugeRetry_IsZero() =>
        Assert.Equal(TimeSpan.Zero, new DeliveryPolicy { InitialBackoffDelay = 0 }.BackoffDelay(2000, 0));

    [Fact]
    public void ServiceManifest_DuplicateField_IsAnError() =>
        Assert.Throws<ManifestException>(() => ServiceManifest.Parse("""{"memory": 4096, "memory": 128}"""));

    [Fact]
    public void AppManifest_BadBuilderName_ReportsThePathAndNoMisleadingValue()
    {
        var error = Assert.Single(Assert.Throws<ManifestException>(() => AppManifest.Parse("""{"vendor":"acme","name":"app","version":"1.0.0","builders":{"Dot Net":"1.x"}}""")).Errors);
        Assert.Equal("$.builders['Dot Net']", error.Path);
        Assert.Null(error.Value);
    }

    [Fact]
    public void ServiceManifest_InvalidMinReplicas_GivesOneError() =>
        Assert.Equal("$.minReplicas", Assert.Single(Assert.Throws<ManifestException>(() => ServiceManifest.Parse("""{"minReplicas": 0, "maxReplicas": 1}""")).Errors).Path);

    [Fact]
    public void ServiceManifest_NullKeysWithTopics_IsAccepted() =>
        Assert.True(ServiceManifest.Parse("""{"events": {"x": {"keys": null, "topics": ["a"]}}}""").Events["x"].KeysAreTopics);
}

public sealed class RoutePathCharacterTests
{
    [Theory]
    [InlineData("/_v/x\u0000")]
    [InlineData("/_v/x\r\ny")]
    [InlineData("/_v/%2e%2e/_events")]
    [InlineData("/_v/a b")]
    [InlineData("/_v/é")]
    [InlineData("/_v/x?y=1")]
    public void TryParse_ControlCharactersEscapesAndNonPathCharacters_AreRefused(string path) =>
        Assert.Null(RoutePattern.TryParse(path));

    [Theory]
    [InlineData("/_v/app/events-example/hcheck")]
    [InlineData("/_v/orders/:id/items/*rest")]
    [InlineData("/_v/a~b!c$d&e'f(g)h*i+j,k;l=m:n@o")]
    public void TryParse_PathCharacters_AreAccepted(string path) =>
        Assert.NotNull(RoutePattern.TryParse(path));
}
