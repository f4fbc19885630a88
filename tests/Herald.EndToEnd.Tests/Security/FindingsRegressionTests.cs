using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using static Herald.EndToEnd.Tests.Security.SecurityFixture;

namespace Herald.EndToEnd.Tests.Security;

/// <summary>Attacks the suite found getting through, each refused since; they stay here so they stay refused.</summary>
[Collection(SecuritySuite.Name)]
public sealed class FindingsRegressionTests(SecurityFixture f)
{
    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFE })]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    public async Task Publish_WithInvalidUtf8InsideAJsonString_Is400AndStoresNothing(byte[] bad)
    {
        var before = await f.SnapshotAsync(Account, Victim);
        using var request = Request(HttpMethod.Put, $"/{Account}/{Victim}/events/test-event", f.VictimToken);
        request.Content = new ByteArrayContent([.. "{\"a\":\""u8.ToArray(), .. bad, .. "\"}"u8.ToArray()]);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var (status, body) = await f.SendAsync(request);

        Assert.True(status == 400, body);
        Assert.Contains("UTF-8", body, StringComparison.Ordinal);
        Assert.Equal(before, await f.SnapshotAsync(Account, Victim));
    }

    [Theory]
    [InlineData("cl%C3%A9")]
    [InlineData("a%E2%80%A8b")]
    [InlineData("a%7Fb")]
    public async Task Publish_WithASubjectThatCannotTravelInAHeader_Is400AndStoresNothing(string resource)
    {
        var before = await f.SnapshotAsync(Account, Victim);

        var (status, body) = await f.SendAsync(Request(HttpMethod.Put, $"/{Account}/{Victim}/events/test-event?resource={resource}", f.VictimToken, """{"subject":1}"""));

        Assert.True(status == 400, body);
        Assert.Equal(before, await f.SnapshotAsync(Account, Victim));
    }

    [Theory]
    [InlineData("/_v/x\u0000")]
    [InlineData("/_v/%2e%2e/_events")]
    [InlineData("/_v/x\r\ny")]
    [InlineData("/_v/../_events")]
    public async Task Link_WithControlCharactersOrEscapesInARoutePath_Is400AndLinksNothing(string path)
    {
        var workspace = "f3-" + Guid.NewGuid().ToString("N")[..8];
        using var request = Request(HttpMethod.Put, $"/_herald/v1/{Account}/{workspace}/apps/evil.paths", f.Broker.AdminToken,
            """{"manifest":{"vendor":"evil","name":"paths","version":"1.0.0"},"service":{"routes":{"r":{"path":""" + JsonSerializer.Serialize(path) + ""","public":true}}},"endpoint":"http://127.0.0.1:9"}""");

        var (status, body) = await f.SendAsync(request);

        Assert.True(status == 400, body);
        Assert.DoesNotContain("evil.paths", await f.SnapshotAsync(Account, workspace), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenTail_OfATokenRotatedByARelink_EndsWithoutShowingNewEvents()
    {
        const string Workspace = "f4-rotation";
        var first = await f.LinkAsync(Account, Workspace, "rot.tail", "{}");
        await using var tail = await SseTail.OpenAsync(f.Broker.Url, $"/{Account}/{Workspace}/events", first.Token);
        var second = await f.LinkAsync(Account, Workspace, "rot.tail", "{}");

        var (status, _) = await f.PublishAsync(second.Token, Account, Workspace, "after-rotation", """{"secret":"for the new token only"}""");

        Assert.Equal(202, status);
        await Eventually.TrueAsync(() => tail.Ended, "the old token's tail to end", TimeSpan.FromSeconds(30));
        Assert.Empty(tail.Events);
    }
}
