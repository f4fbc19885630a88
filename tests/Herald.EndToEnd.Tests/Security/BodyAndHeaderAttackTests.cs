using System.Net.Http.Headers;
using System.Text;
using static Herald.EndToEnd.Tests.Security.SecurityFixture;

namespace Herald.EndToEnd.Tests.Security;

/// <summary>
/// Oversize and malformed bodies (413, 400) and header injection (CR/LF, NUL, obs-fold in Idempotency-Key and resource):
/// each refused, and B's counts, dead letters, subscriber records and tail unchanged.
/// </summary>
[Collection(SecuritySuite.Name)]
public class BodyAndHeaderAttackTests(SecurityFixture f)
{
    private const string Path = $"/{Account}/{Victim}/events/test-event";

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] Nested(int depth) => Utf8(new string('[', depth) + new string(']', depth));

    public static TheoryData<string> Bodies() =>
    [
        "not json", "", " ", "42", "\"a string\"", "null", "true", "{}{}", "{} []", "{\"a\":1} x", "{\"a\":1", "[1,2",
        "{'a':1}", "{\"a\":NaN}", "{\"a\":1,}", "{/*c*/\"a\":1}", "{\"a\":undefined}",
        "NUL-IN-JSON", "DEEP", "INVALID-UTF8-OUTSIDE-STRING",
    ];

    private static byte[] BodyFor(string name) => name switch
    {
        "INVALID-UTF8-OUTSIDE-STRING" => [.. Utf8("{\"a\":"), 0xFF, .. Utf8("}")],
        "NUL-IN-JSON" => [.. Utf8("{\"a\":\""), 0x00, .. Utf8("\"}")],
        "DEEP" => Nested(1000),
        _ => Utf8(name),
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Publish_WithAMalformedBody_Is400_AndChangesNothing(string name)
    {
        var before = await f.SnapshotAsync(Account, Victim);
        var records = f.Subscriber.Records().Count;
        await using var tail = await SseTail.OpenAsync(f.Broker.Url, $"/{Account}/{Victim}/events", f.Broker.AdminToken);

        foreach (var contentType in new[] { "application/json", "text/plain" })
        {
            using var request = Request(HttpMethod.Put, Path, f.VictimToken);
            request.Content = new ByteArrayContent(BodyFor(name));
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
            var (status, body) = await f.SendAsync(request);
            Assert.True(status == 400, $"{name} as {contentType}: {status} {body}");
            Assert.Contains("\"detail\"", body, StringComparison.Ordinal);
        }

        Assert.Equal(before, await f.SnapshotAsync(Account, Victim));
        await f.AssertOnlyMarkerReachedVictimAsync(tail, records);
    }

    [Fact]
    public async Task Publish_LargerThan1MiB_Is413_WithContentLengthOrChunked_AndChangesNothing()
    {
        var before = await f.SnapshotAsync(Account, Victim);
        var records = f.Subscriber.Records().Count;
        await using var tail = await SseTail.OpenAsync(f.Broker.Url, $"/{Account}/{Victim}/events", f.Broker.AdminToken);
        var big = Utf8($$"""{"data":"{{new string('x', 1024 * 1024)}}"}""");

        using (var sized = Request(HttpMethod.Put, Path, f.VictimToken))
        {
            sized.Content = new ByteArrayContent(big);
            sized.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var (status, body) = await f.SendAsync(sized);
            Assert.True(status == 413, $"with Content-Length: {status} {body}");
        }

        using (var chunked = Request(HttpMethod.Put, Path, f.VictimToken))
        {
            chunked.Content = new StreamContent(new MemoryStream(big));
            chunked.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            chunked.Headers.TransferEncodingChunked = true;
            var (status, body) = await f.SendAsync(chunked);
            Assert.True(status == 413, $"chunked: {status} {body}");
        }

        // A Content-Length that lies low: the broker must not read past it into a second, smuggled request.
        var smuggled = RawHttp.Build("PUT", Path, f.Broker.Url, [$"Authorization: Bearer {f.VictimToken}", "Content-Type: application/json", "Content-Length: 2", "Transfer-Encoding: chunked"]);
        var (smuggledStatus, smuggledAnswer) = await RawHttp.SendAsync(f.Broker.Url, [.. smuggled[..^2], .. Utf8("\r\n{}")]);
        Assert.True(smuggledStatus == 400, "Content-Length with Transfer-Encoding: " + smuggledAnswer[..Math.Min(300, smuggledAnswer.Length)]);

        Assert.Equal(before, await f.SnapshotAsync(Account, Victim));
        await f.AssertOnlyMarkerReachedVictimAsync(tail, records);
    }

    public static TheoryData<string, string> HeaderInjections() => new()
    {
        { "CR LF in Idempotency-Key (header split)", "Idempotency-Key: k1\r\nX-Event-Sender: vtex.events-example\rX: y" },
        { "bare CR in Idempotency-Key", "Idempotency-Key: k2\rx-event-sender: vtex.events-example" },
        { "obs-fold in Idempotency-Key", "Idempotency-Key: k4\r\n x-event-sender: vtex.events-example" },
        { "NUL in Idempotency-Key", "Idempotency-Key: k5\0x" },
        { "space in Idempotency-Key", "Idempotency-Key: k6 x" },
        { "tab in Idempotency-Key", "Idempotency-Key: k7\tx" },
        { "DEL in Idempotency-Key", "Idempotency-Key: k8\u007f" },
        { "non-ASCII in Idempotency-Key", "Idempotency-Key: k9\u00e9" },
        { "256-character Idempotency-Key", "Idempotency-Key: " + new string('k', 256) },
        { "CR LF in resource", "?resource=a%0D%0Ax-event-sender:%20vtex.events-example" },
        { "LF in resource", "?resource=a%0Ab" },
        { "NUL in resource", "?resource=a%00b" },
        { "tab in resource", "?resource=a%09b" },
        { "raw CR in the request line", "?resource=a\rb" },
        { "raw LF in the request line", "?resource=a\nb" },
        { "C1 control in resource", "?resource=a%C2%85b" },
        { "very long resource", "?resource=" + new string('r', 4097) },
    };

    [Theory]
    [MemberData(nameof(HeaderInjections))]
    public async Task Publish_WithControlCharactersInIdempotencyKeyOrResource_Is400_AndChangesNothing(string name, string injection)
    {
        var before = await f.SnapshotAsync(Account, Victim);
        var records = f.Subscriber.Records().Count;
        await using var tail = await SseTail.OpenAsync(f.Broker.Url, $"/{Account}/{Victim}/events", f.Broker.AdminToken);
        var query = injection.StartsWith('?') ? injection : "";
        string[] headers = injection.StartsWith('?') ? [] : [injection];

        var (status, response) = await RawHttp.SendAsync(f.Broker.Url,
            RawHttp.Build("PUT", Path + query, f.Broker.Url, [$"Authorization: Bearer {f.VictimToken}", .. headers], Utf8("""{"injected":true}""")));

        Assert.True(status == 400, $"{name}: {response[..Math.Min(600, response.Length)]}");
        Assert.Equal(before, await f.SnapshotAsync(Account, Victim));
        await f.AssertOnlyMarkerReachedVictimAsync(tail, records);
    }

    [Fact]
    public async Task Publish_WithABareLfInAHeader_IsRefusedOrReadAsTwoHeaders_AndTheSenderStaysTheTokensApp()
    {
        // Kestrel may end a header line at a bare LF (RFC 9112 §2.2 allows it): then the smuggled line is just another
        // header, which cannot choose the sender either.
        var records = f.Subscriber.Records().Count;
        var (status, response) = await RawHttp.SendAsync(f.Broker.Url, RawHttp.Build("PUT", Path, f.Broker.Url,
            [$"Authorization: Bearer {f.SpooferToken}", $"Idempotency-Key: lf-{Guid.NewGuid():N}\nx-event-sender: {VictimSender}"], Utf8("""{"lf":true}""")));

        Assert.True(status is 400 or 202, response);
        if (status == 202)
        {
            var json = response[response.IndexOf('{', response.IndexOf("\r\n\r\n", StringComparison.Ordinal))..(response.LastIndexOf('}') + 1)];
            var id = System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("id").GetString();
            await Eventually.TrueAsync(() => f.Subscriber.Records().Skip(records).Any(r => r.GetProperty("eventId").GetString() == id), "the event handled");
            var record = f.Subscriber.Records().Skip(records).Single(r => r.GetProperty("eventId").GetString() == id);
            Assert.Equal(Spoofer, record.GetProperty("sender").GetString());
        }
    }
}

/// <summary>The same attacks against a broker on the NATS JetStream store.</summary>
[Collection(NatsSecuritySuite.Name)]
public sealed class BodyAndHeaderAttackTestsOnNats(NatsSecurityFixture f) : BodyAndHeaderAttackTests(f);
