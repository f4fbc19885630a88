using static Herald.EndToEnd.Tests.Security.SecurityFixture;

namespace Herald.EndToEnd.Tests.Security;

/// <summary>A relink rotates an app's token: the old one is refused at once on publish and tail; an unlink revokes the last one.</summary>
[Collection(SecuritySuite.Name)]
public class TokenRotationTests(SecurityFixture f)
{
    private const string Workspace = "rotation";
    private const string App = "rot.app";
    private const string Service = """{"events":{"h":{"keys":["rot-key"],"delivery":{"retries":0}}}}""";

    private async Task<(int Publish, int PublishCourier, int Tail)> UseAsync(string token)
    {
        var (publish, _) = await f.PublishAsync(token, Account, Workspace, "other-key", """{"n":1}""");
        var (courier, _) = await f.SendAsync(Request(HttpMethod.Post, $"/courier/v0/{Account}/{Workspace}/events/other-key", token, """{"n":1}"""));
        var (tail, _) = await f.SendAsync(Request(HttpMethod.Get, $"/{Account}/{Workspace}/events", token));
        return (publish, courier, tail);
    }

    [Fact]
    public async Task Relink_MakesTheOldTokenGet401OnPublishAndTail_AndUnlinkRevokesTheNewOne()
    {
        var first = await f.LinkAsync(Account, Workspace, App, Service);
        Assert.Equal((202, 202, 200), await UseAsync(first.Token));

        var second = await f.LinkAsync(Account, Workspace, App, Service);
        Assert.NotEqual(first.Token, second.Token);
        Assert.NotEqual(first.SigningSecret, second.SigningSecret);
        var before = await f.SnapshotAsync(Account, Workspace);

        Assert.Equal((401, 401, 401), await UseAsync(first.Token));
        Assert.Equal(before, await f.SnapshotAsync(Account, Workspace));
        Assert.Equal((202, 202, 200), await UseAsync(second.Token));

        var third = await f.LinkAsync(Account, Workspace, App, Service);
        Assert.Equal((401, 401, 401), await UseAsync(first.Token));
        Assert.Equal((401, 401, 401), await UseAsync(second.Token));
        Assert.Equal((202, 202, 200), await UseAsync(third.Token));

        using (var unlink = f.Broker.Admin(HttpMethod.Delete, $"/_herald/v1/{Account}/{Workspace}/apps/{App}"))
        {
            Assert.Equal(204, (await f.SendAsync(unlink)).Status);
        }

        Assert.Equal((401, 401, 401), await UseAsync(third.Token));
    }
}

/// <summary>The same attacks against a broker on the NATS JetStream store.</summary>
[Collection(NatsSecuritySuite.Name)]
public sealed class TokenRotationTestsOnNats(NatsSecurityFixture f) : TokenRotationTests(f);
