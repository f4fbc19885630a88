using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Herald.Fuzz.Publish;
using Herald.Manifests;

namespace Herald.Fuzz.Tests;

/// <summary>The inputs behind the fuzzers' findings K1 to K4 (docs/fuzzing.md), each refused cleanly since.</summary>
public sealed class FixedFindingsTests
{
    [Fact]
    public void ServiceManifestParse_TextWithLoneSurrogate_ThrowsManifestException() =>
        Assert.IsType<ManifestException>(Record.Exception(() => ServiceManifest.Parse("\ud800")));

    [Fact]
    public void ServiceManifestParse_KeyEscapingLoneSurrogate_ThrowsManifestExceptionNamingThePath()
    {
        var error = Assert.IsType<ManifestException>(Record.Exception(() => ServiceManifest.Parse("""{"events": {"h": {"keys": ["\ud800"]}}}""")));
        Assert.Equal("$.events.h.keys[0]", Assert.Single(error.Errors).Path);
    }

    [Fact]
    public void ServiceManifestParse_FieldNameEscapingLoneSurrogate_ThrowsManifestException() =>
        Assert.IsType<ManifestException>(Record.Exception(() => ServiceManifest.Parse("""{"\udc00": 1, "memory": 128}""")));

    [Fact]
    public void AppManifestParse_TitleEscapingLoneSurrogate_ThrowsManifestException() =>
        Assert.IsType<ManifestException>(Record.Exception(() => AppManifest.Parse("""{"vendor": "a", "name": "b", "version": "0.1.0", "title": "\ud800"}""")));

    [Fact]
    public void ServiceManifestParse_NullMinReplicasAndMaxReplicasBelowTheDefault_ThrowsManifestException() =>
        Assert.IsType<ManifestException>(Record.Exception(() => ServiceManifest.Parse("""{"minReplicas": null, "maxReplicas": 1}""")));

    [Fact]
    public async Task Link_ManifestEscapingLoneSurrogate_Answers400()
    {
        await using var broker = await FuzzBroker.StartAsync(4096);
        using var request = new HttpRequestMessage(HttpMethod.Put, "/_herald/v1/fuzzacct/master/apps/fuzz.bad");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", broker.AdminToken);
        request.Content = new StringContent("""{"manifest": {"vendor": "fuzz", "name": "bad", "version": "0.1.0", "title": "\ud800"}, "service": {}, "endpoint": "http://127.0.0.1:9"}""", Encoding.UTF8, "application/json");

        using var response = await broker.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Publish_PathWithEmptySegment_Answers404ProblemWithDetail()
    {
        await using var broker = await FuzzBroker.StartAsync(4096);
        using var request = new HttpRequestMessage(HttpMethod.Put, "/fuzzacct//events/send-event") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", broker.SenderToken);

        using var response = await broker.Client.SendAsync(request);

        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() : null));
    }
}
