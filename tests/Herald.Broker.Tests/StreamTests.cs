using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text.Json;

namespace Herald.Broker.Tests;

/// <summary>The live tail, at Herald's path and at the toolbelt's <c>/colossus/v0</c> path, read with <see cref="SseParser"/>.</summary>
public sealed class StreamTests : IAsyncLifetime
{
    private const string Listener = """{"events":{"onSend":{"sender":"vtex.events-example","keys":["send-event"]}}}""";

    private BrokerHarness _broker = null!;
    private FakeApp _app = null!;
    private string _senderToken = null!;

    public async Task InitializeAsync()
    {
        _broker = await BrokerHarness.StartAsync();
        _app = await FakeApp.StartAsync();
        await _broker.LinkAsync("acme", "dev", "vtex", "live-users", Listener, _app.Endpoint);
        _senderToken = (await _broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", _app.Endpoint)).Token;
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _app.DisposeAsync();
    }

    [Theory]
    [InlineData("/acme/dev/events")]
    [InlineData("/colossus/v0/acme/dev/events")]
    public async Task TheTail_OpensWithAPing_ThenShowsTheEventsItsQueryAsksFor(string path)
    {
        await using var tail = await Tail.OpenAsync(_broker, path + "?sender=vtex.events-example&keys=send-event", _senderToken);

        using (await _broker.PublishAsync(_senderToken, "acme", "dev", "other-key", """{"n":0}"""))
        using (await _broker.PublishAsync(_senderToken, "acme", "dev", "send-event", """{"n":1}""", subject: "orders/1"))
        {
        }

        var shown = await Eventually.ReturnsAsync(() => Task.FromResult(tail.Messages.Where(m => m.EventType == SseParser.EventTypeDefault).ToList()), m => m.Count >= 1, "the tail showing the event");
        Assert.Equal("ping", tail.Messages.First().EventType);
        using var data = JsonDocument.Parse(Assert.Single(shown).Data);
        Assert.Equal("vtex.events-example", data.RootElement.GetProperty("sender").GetString());
        Assert.Equal("send-event", data.RootElement.GetProperty("key").GetString());
        Assert.Equal("orders/1", data.RootElement.GetProperty("subject").GetString());
        Assert.Equal(1, data.RootElement.GetProperty("body").GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task TheToolbeltsTail_SaysLinkInterruptedAndEnds_WhenItsTokenIsRotated()
    {
        await using var tail = await Tail.OpenAsync(_broker, "/colossus/v0/acme/dev/events?onUnsubscribe=link_interrupted&sender=vtex.events-example&keys=send-event", _senderToken);
        await Eventually.TrueAsync(() => !tail.Messages.IsEmpty, "the opening ping");

        // A relink draws a new token; the stream opened with the old one ends at once, not at its next ping.
        await _broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", _app.Endpoint);

        await Eventually.TrueAsync(() => tail.Ended, "the tail ending after the relink");
        var last = tail.Messages.Last();
        Assert.Equal("unsubscribe", last.EventType);
        Assert.Equal("link_interrupted", last.Data);
    }

    [Fact]
    public async Task ATailOpenedWithTheAdminToken_IsNotEndedByARelink()
    {
        await using var tail = await Tail.OpenAsync(_broker, "/colossus/v0/acme/dev/events?onUnsubscribe=link_interrupted", _broker.AdminToken);
        await _broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", _app.Endpoint);
        var token = (await _broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", _app.Endpoint)).Token;

        using (await _broker.PublishAsync(token, "acme", "dev", "send-event", """{"n":2}"""))
        {
        }

        await Eventually.TrueAsync(() => tail.Messages.Any(m => m.EventType == SseParser.EventTypeDefault), "the event after two relinks");
        Assert.False(tail.Ended);
    }

    private sealed class Tail : IAsyncDisposable
    {
        private readonly HttpClient _client;
        private readonly HttpResponseMessage _response;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _reading;

        private Tail(HttpClient client, HttpResponseMessage response)
        {
            _client = client;
            _response = response;
            _reading = Task.Run(ReadAsync);
        }

        public ConcurrentQueue<SseItem<string>> Messages { get; } = new();

        public bool Ended => _reading.IsCompleted;

        public static async Task<Tail> OpenAsync(BrokerHarness broker, string path, string token)
        {
            var client = new HttpClient { BaseAddress = broker.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
            // The toolbelt writes the scheme in lower case.
            request.Headers.TryAddWithoutValidation("Authorization", "bearer " + token);
            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            return new Tail(client, response);
        }

        private async Task ReadAsync()
        {
            try
            {
                await using var stream = await _response.Content.ReadAsStreamAsync(_stop.Token);
                await foreach (var message in SseParser.Create(stream).EnumerateAsync(_stop.Token))
                {
                    Messages.Enqueue(message);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
            {
                // Closed by the test.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _response.Dispose();
            await _reading;
            _client.Dispose();
            _stop.Dispose();
        }
    }
}
