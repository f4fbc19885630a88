using System.Net;
using Herald.Protocol;

namespace Herald.Sdk.Tests;

/// <summary>
/// A delivery's handler, key, sender, subject, account, workspace and attempt are signed in x-herald-signature:
/// changing any of them, or sending the same attempt again, is refused with 401 before the handler runs.
/// </summary>
public sealed class ContextSignatureTests
{
    private const string ServiceJson = """{"events": {"one": {"keys": ["send-event"]}, "two": {"keys": ["send-event"]}}}""";

    private static async Task<(TestService Service, Func<int> Calls)> StartAsync()
    {
        var calls = 0;
        var service = await TestService.StartAsync(ServiceJson, s =>
        {
            s.Events["one"] = _ =>
            {
                Interlocked.Increment(ref calls);
                return Task.CompletedTask;
            };
            s.Events["two"] = s.Events["one"];
        });
        return (service, () => Volatile.Read(ref calls));
    }

    [Theory]
    [InlineData(HeraldHeaders.EventHandlerId, "two")]
    [InlineData(HeraldHeaders.EventSender, "vtex.someone-else")]
    [InlineData(HeraldHeaders.EventKey, "other-key")]
    [InlineData(HeraldHeaders.EventSubject, "order-2")]
    [InlineData(HeraldHeaders.EventAttempt, "2")]
    [InlineData(HeraldHeaders.RequestId, "0123456789abcdef0123456789abcdef")]
    [InlineData(HeraldHeaders.ContextSignature, "v1,AAAA")]
    public async Task ChangedSignedHeader_Is401AndTheHandlerDoesNotRun(string header, string value)
    {
        var (service, calls) = await StartAsync();
        await using var _ = service;
        using var request = TestService.Delivery("one", """{"n":1}""");
        request.Headers.Remove(header);
        request.Headers.TryAddWithoutValidation(header, value);

        using var response = await service.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, calls());
    }

    [Fact]
    public async Task MissingContextSignature_Is401()
    {
        var (service, calls) = await StartAsync();
        await using var _ = service;
        using var request = TestService.Delivery("one", """{"n":1}""");
        request.Headers.Remove(HeraldHeaders.ContextSignature);

        using var response = await service.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, calls());
    }

    [Fact]
    public async Task DeliverySentToAnotherWorkspacesPath_Is401()
    {
        var (service, calls) = await StartAsync();
        await using var _ = service;
        using var request = TestService.Delivery("one", """{"n":1}""");
        request.RequestUri = new Uri("/acme/master/_events", UriKind.Relative);

        using var response = await service.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, calls());
    }

    [Fact]
    public async Task SameAttemptSentTwice_IsAcceptedOnceThenRefusedAsAReplay()
    {
        var (service, calls) = await StartAsync();
        await using var _ = service;
        using var first = TestService.Delivery("one", """{"n":1}""");
        using var replay = TestService.Delivery("one", """{"n":1}""");
        replay.Headers.Remove(HeraldHeaders.RequestId);
        replay.Headers.Remove(HeraldHeaders.ContextSignature);
        replay.Headers.TryAddWithoutValidation(HeraldHeaders.RequestId, first.Headers.GetValues(HeraldHeaders.RequestId).Single());
        replay.Headers.TryAddWithoutValidation(HeraldHeaders.ContextSignature, first.Headers.GetValues(HeraldHeaders.ContextSignature).Single());
        replay.Headers.Remove(HeraldHeaders.WebhookTimestamp);
        replay.Headers.TryAddWithoutValidation(HeraldHeaders.WebhookTimestamp, first.Headers.GetValues(HeraldHeaders.WebhookTimestamp).Single());
        replay.Headers.Remove(HeraldHeaders.WebhookSignature);
        replay.Headers.TryAddWithoutValidation(HeraldHeaders.WebhookSignature, first.Headers.GetValues(HeraldHeaders.WebhookSignature).Single());

        using var accepted = await service.Http.SendAsync(first);
        using var refused = await service.Http.SendAsync(replay);

        Assert.Equal(HttpStatusCode.NoContent, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(1, calls());
    }

    [Fact]
    public async Task EveryAttemptWithItsOwnRequestId_IsAccepted()
    {
        var (service, calls) = await StartAsync();
        await using var _ = service;

        using var attempt1 = await service.Http.SendAsync(TestService.Delivery("one", """{"n":1}""", attempt: 1));
        using var attempt2 = await service.Http.SendAsync(TestService.Delivery("one", """{"n":1}""", attempt: 2));
        using var redriven = await service.Http.SendAsync(TestService.Delivery("one", """{"n":1}""", attempt: 1));

        Assert.Equal([HttpStatusCode.NoContent, HttpStatusCode.NoContent, HttpStatusCode.NoContent], new[] { attempt1.StatusCode, attempt2.StatusCode, redriven.StatusCode });
        Assert.Equal(3, calls());
    }
}
