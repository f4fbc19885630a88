using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Herald.Broker.Internal;
using Herald.Broker.Registry;
using Herald.Protocol;
using Polly;
using Polly.Timeout;

namespace Herald.Broker.Dispatching;

/// <summary>
/// Makes one delivery attempt: <c>POST {endpoint}/{account}/{workspace}/_events</c> with the event body verbatim,
/// the protocol headers and a Standard Webhooks signature, under the attempt's timeout (a Polly timeout strategy).
/// </summary>
internal sealed class DeliveryClient
{
    /// <summary>The name of the <see cref="HttpClient"/> used for deliveries.</summary>
    public const string HttpClientName = "herald-delivery";

    private const int MaxErrorText = 512;

    private static readonly ResiliencePropertyKey<TimeSpan> TimeoutKey = new("herald.attempt-timeout");

    // Attempt numbers as header text; the policy's retries stay well within these.
    private static readonly string[] AttemptText = [.. Enumerable.Range(0, 32).Select(n => n.ToString(CultureInfo.InvariantCulture))];

    private readonly HttpClient _httpClient;
    private readonly TimeProvider _timeProvider;
    private readonly ResiliencePipeline _pipeline;

    public DeliveryClient(IHttpClientFactory httpClientFactory, TimeProvider timeProvider)
    {
        // One client for the broker's life: its handler's PooledConnectionLifetime renews connections, and a client per
        // attempt would cost a client and a cancellation source on every delivery.
        _httpClient = httpClientFactory.CreateClient(HttpClientName);
        _timeProvider = timeProvider;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddTimeout(new TimeoutStrategyOptions
            {
                TimeoutGenerator = args => ValueTask.FromResult(args.Context.Properties.GetValue(TimeoutKey, TimeSpan.FromSeconds(10))),
            })
            .Build();
    }

    /// <summary>Attempts to deliver <paramref name="evt"/> to <paramref name="subscription"/>.</summary>
    /// <param name="eventId">The event's id as text (the caller has it already).</param>
    public async Task<AttemptResult> SendAsync(Subscription subscription, HeraldEvent evt, string eventId, int attempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(evt);
        var startedAt = _timeProvider.GetUtcNow();
        var started = _timeProvider.GetTimestamp();
        var timeout = subscription.Policy.AttemptTimeout(attempt);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(TimeoutKey, timeout);
        using var span = BrokerTelemetry.StartAttempt(evt, subscription.Id, subscription.HandlerId, attempt);
        AttemptResult? result = null;
        try
        {
            using var request = BuildRequest(subscription, evt, eventId, attempt, startedAt, span);
            var (status, error, retryAfter) = await _pipeline.ExecuteAsync(
                static async (ctx, state) =>
                {
                    using var response = await state.Client.SendAsync(state.Request, HttpCompletionOption.ResponseContentRead, ctx.CancellationToken).ConfigureAwait(false);
                    var status = (int)response.StatusCode;
                    string? error = null;
                    if (status is < 200 or >= 300)
                    {
                        error = await ReadErrorAsync(response, ctx.CancellationToken).ConfigureAwait(false);
                    }

                    return (status, error, RetryAfter(response, state.Now));
                },
                context,
                (Client: _httpClient, Request: request, Now: startedAt)).ConfigureAwait(false);
            result = new AttemptResult(status, error, retryAfter, startedAt, _timeProvider.GetElapsedTime(started));
        }
        catch (TimeoutRejectedException)
        {
            result = new AttemptResult(null, $"timeout: no answer within {timeout.TotalMilliseconds:0} ms", null, startedAt, _timeProvider.GetElapsedTime(started));
        }
        catch (HttpRequestException ex)
        {
            result = new AttemptResult(null, "network: " + Describe(ex), null, startedAt, _timeProvider.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            result = new AttemptResult(null, "network: the connection was closed", null, startedAt, _timeProvider.GetElapsedTime(started));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        BrokerTelemetry.EndAttempt(span, result.Status, result.Error);
        return result;
    }

    private static HttpRequestMessage BuildRequest(Subscription subscription, HeraldEvent evt, string id, int attempt, DateTimeOffset now, Activity? span)
    {
        var app = subscription.App;
        // A subscription's events are its app's (account, workspace): the path parsed at link time is theirs.
        var uri = string.Equals(evt.Account, app.Account, StringComparison.Ordinal) && string.Equals(evt.Workspace, app.Workspace, StringComparison.Ordinal)
            ? app.DeliveryUri
            : new Uri(app.Endpoint, HeraldPaths.DeliveryPath(evt.Account, evt.Workspace));
        var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new ReadOnlyMemoryContent(evt.Body),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        request.Content.Headers.ContentLength = evt.Body.Length;
        var seconds = now.ToUnixTimeSeconds();
        var timestamp = seconds.ToString(CultureInfo.InvariantCulture);
        var attemptText = (uint)attempt < (uint)AttemptText.Length ? AttemptText[attempt] : attempt.ToString(CultureInfo.InvariantCulture);
        var headers = request.Headers;
        headers.TryAddWithoutValidation(HeraldHeaders.EventHandlerId, subscription.HandlerId);
        headers.TryAddWithoutValidation(HeraldHeaders.EventKey, evt.Key);
        headers.TryAddWithoutValidation(HeraldHeaders.EventSender, evt.Sender);
        headers.TryAddWithoutValidation(HeraldHeaders.EventSubject, evt.Subject);
        headers.TryAddWithoutValidation(HeraldHeaders.Account, evt.Account);
        headers.TryAddWithoutValidation(HeraldHeaders.Workspace, evt.Workspace);
        headers.TryAddWithoutValidation(HeraldHeaders.WorkspaceIsProduction, Names.IsProduction(evt.Workspace) ? "true" : "false");
        headers.TryAddWithoutValidation(HeraldHeaders.Credential, app.Token);
        var requestId = RandomIds.NewHex128();
        headers.TryAddWithoutValidation(HeraldHeaders.RequestId, requestId);
        headers.TryAddWithoutValidation(HeraldHeaders.OperationId, id);
        headers.TryAddWithoutValidation(HeraldHeaders.EventId, id);
        headers.TryAddWithoutValidation(HeraldHeaders.EventAttempt, attemptText);
        headers.TryAddWithoutValidation(HeraldHeaders.EventTime, evt.Time.ToString("O", CultureInfo.InvariantCulture));
        BrokerTelemetry.Inject(span, evt, headers);

        headers.TryAddWithoutValidation(HeraldHeaders.WebhookId, id);
        headers.TryAddWithoutValidation(HeraldHeaders.WebhookTimestamp, timestamp);

        // The two signatures go with the content's headers, which take headers of any name and are written right after
        // the request's: on the wire nothing changes but their place. The request's headers are kept in an array that
        // grows 4 → 8 → 16 → 32, so the 18 of a delivery cost four arrays, and 16 cost three; the content's two
        // (type, length) and these two fill its first array of 4.
        var contentHeaders = request.Content.Headers;
        contentHeaders.TryAddWithoutValidation(HeraldHeaders.WebhookSignature, WebhookSignature.Sign(app.SigningKey, id, seconds, evt.Body.Span));
        var context = new DeliveryContext(id, timestamp, requestId, subscription.HandlerId, evt.Key, evt.Sender, evt.Subject, evt.Account, evt.Workspace, attemptText);
        contentHeaders.TryAddWithoutValidation(HeraldHeaders.ContextSignature, DeliveryContextSignature.Sign(app.SigningKey, context));
        return request;
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response, DateTimeOffset now)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        return header?.Date is { } date ? date - now : null;
    }

    private static async Task<string> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var media = response.Content.Headers.ContentType?.MediaType;
        if (media is "application/problem+json" or "application/json")
        {
            try
            {
                using var problem = JsonDocument.Parse(text);
                if (problem.RootElement.ValueKind == JsonValueKind.Object && problem.RootElement.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String)
                {
                    text = detail.GetString()!;
                }
            }
            catch (JsonException)
            {
                // Not a problem document: keep the text as it is.
            }
        }

        text = text.ReplaceLineEndings(" ").Trim();
        var prefix = $"HTTP {(int)response.StatusCode}";
        return text.Length == 0 ? prefix : $"{prefix}: {(text.Length > MaxErrorText ? text[..MaxErrorText] + "..." : text)}";
    }

    private static string Describe(HttpRequestException ex) =>
        ex.HttpRequestError switch
        {
            HttpRequestError.ConnectionError => "connection refused or reset: " + ex.Message,
            _ => ex.Message,
        };
}
