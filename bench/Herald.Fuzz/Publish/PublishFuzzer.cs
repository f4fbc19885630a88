using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Herald.Fuzz.Publish;

/// <param name="Inputs">How many requests to send.</param>
/// <param name="Bound">Send no new request after this long.</param>
/// <param name="Seed">The run's seed; request i is generated from (seed, i) alone.</param>
/// <param name="Concurrency">Requests in flight at once.</param>
/// <param name="MaxBodyBytes">The broker's body limit for the run (lower than the default so near-limit bodies are cheap).</param>
/// <param name="RequestTimeout">A request with no answer after this long is a hang.</param>
/// <param name="Strict">Count answers that hit a <see cref="KnownIssues">known issue</see> as failures too.</param>
public sealed record PublishFuzzOptions(long Inputs, TimeSpan Bound, int Seed, int Concurrency = 16, long MaxBodyBytes = 16 * 1024, TimeSpan? RequestTimeout = null, bool Strict = false);

/// <summary>
/// Fuzzes the publish endpoint of a real broker (in this process, on 127.0.0.1, SQLite in a temp folder). The rules:
/// no 5xx; every answer is 202 with <c>{"id", "deliveries"}</c>, or a 4xx <c>application/problem+json</c> whose
/// <c>detail</c> is not empty; a request built from plain values gets exactly the status docs/protocol.md prescribes;
/// no request goes unanswered; and afterwards the broker is still ready and still accepts a valid publish.
/// </summary>
public static class PublishFuzzer
{
    public static async Task<FuzzReport> RunAsync(PublishFuzzOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        await using var broker = await FuzzBroker.StartAsync(options.MaxBodyBytes, cancellationToken);
        return await RunAsync(broker, options, cancellationToken);
    }

    public static async Task<FuzzReport> RunAsync(FuzzBroker broker, PublishFuzzOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(broker);
        ArgumentNullException.ThrowIfNull(options);
        var report = new FuzzReport("PUT /{account}/{workspace}/events/{key}", options.Seed);
        var tokens = new FuzzTokens(broker.SenderToken, broker.OtherWorkspaceToken, broker.OtherAccountToken, broker.RotatedToken, broker.AdminToken);
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Concurrency,
            UseCookies = false,
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        using var client = new HttpClient(handler) { Timeout = options.RequestTimeout ?? TimeSpan.FromSeconds(30) };
        var clock = Stopwatch.StartNew();
        long next = -1;
        var workers = Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(
            async () =>
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    var index = Interlocked.Increment(ref next);
                    if (index >= options.Inputs)
                    {
                        return;
                    }

                    if (clock.Elapsed > options.Bound)
                    {
                        report.StoppedByTime = true;
                        return;
                    }

                    var random = new Random(ManifestFuzzer.InputSeed(options.Seed, index));
                    var fuzzCase = PublishGenerator.Generate(random, tokens, options.MaxBodyBytes);
                    await SendAsync(client, broker.BaseAddress, fuzzCase, index, report, options.Strict, cancellationToken);
                }
            },
            cancellationToken)).ToList();
        await Task.WhenAll(workers);
        report.Elapsed = clock.Elapsed;

        if (!await broker.IsReadyAsync(cancellationToken))
        {
            report.Fail(new FuzzFailure(-1, "not-ready", "after the run /readyz did not answer 200 Healthy", "GET /readyz"));
        }

        if (await broker.PublishValidAsync(cancellationToken) is var status && status != HttpStatusCode.Accepted)
        {
            report.Fail(new FuzzFailure(-1, "valid-publish-refused", $"after the run a valid publish got {(int)status}", "PUT /fuzzacct/master/events/send-event"));
        }

        return report;
    }

    /// <summary>The request for <paramref name="fuzzCase"/>: the path and query are sent exactly as generated (no canonicalisation).</summary>
    public static HttpRequestMessage Request(Uri baseAddress, PublishCase fuzzCase)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        ArgumentNullException.ThrowIfNull(fuzzCase);
        var uri = new Uri(baseAddress.GetLeftPart(UriPartial.Authority) + fuzzCase.PathAndQuery, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        var request = new HttpRequestMessage(new HttpMethod(fuzzCase.Method), uri);
        if (fuzzCase.Authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", fuzzCase.Authorization);
        }

        foreach (var key in fuzzCase.IdempotencyKeys)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }

        if (fuzzCase.Method is not ("HEAD" or "GET" or "OPTIONS") || fuzzCase.Body.Length > 0)
        {
            HttpContent content = fuzzCase.Chunked ? new ChunkedContent(fuzzCase.Body) : new ByteArrayContent(fuzzCase.Body);
            if (fuzzCase.ContentType is { Length: > 0 } contentType)
            {
                content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }

            request.Content = content;
        }

        return request;
    }

    /// <summary>Sends one case and checks the answer; returns the outcome and the failure, if any.</summary>
    public static async Task<(string Outcome, string? Failure)> CheckAsync(HttpClient client, Uri baseAddress, PublishCase fuzzCase, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(fuzzCase);
        using var request = Request(baseAddress, fuzzCase);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ("HANG", $"no answer within {client.Timeout.TotalSeconds:F0} s");
        }
        catch (HttpRequestException) when (fuzzCase.Expected is null && fuzzCase.PathAndQuery.Split('?')[0].Contains("%00", StringComparison.Ordinal))
        {
            // Kestrel refuses a path with %00 before the broker sees it (400) and closes the connection, so a client
            // still sending the body sees the pipe break. No Herald code ran.
            return ("connection closed by Kestrel (%00 in path)", null);
        }
        catch (HttpRequestException ex)
        {
            return ("TRANSPORT " + ex.HttpRequestError, ex.Message + (ex.InnerException is { } inner ? " / " + inner.Message : ""));
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (status == 200 && mediaType == "text/event-stream" && fuzzCase.Method == "GET" && fuzzCase.Expected is null)
            {
                // A GET on /{account}/{workspace}/events/ reached the live tail, not the publish endpoint: an endless
                // stream, closed here unread.
                return ("200 live tail (GET, not a publish)", null);
            }

            string text;
            using (var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                reading.CancelAfter(client.Timeout);
                try
                {
                    text = await response.Content.ReadAsStringAsync(reading.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return ("HANG", $"{status} answered, but its body did not end within {client.Timeout.TotalSeconds:F0} s");
                }
                catch (HttpRequestException ex)
                {
                    return ("TRANSPORT " + ex.HttpRequestError, $"{status} answered, then: {ex.Message}" + (ex.InnerException is { } inner ? " / " + inner.Message : ""));
                }
            }
            if (status >= 500)
            {
                return ($"{status} SERVER ERROR", $"{status} {Cut(text)}");
            }

            if (status == 202)
            {
                var shapeError = AcceptedShapeError(text);
                var unexpected = fuzzCase.Expected is { } e && e != 202 ? $"expected {e}, got 202" : null;
                return ("202 accepted", shapeError ?? unexpected);
            }

            if (status is < 400 or >= 500)
            {
                return ($"{status} unexpected", $"{status} is neither 202 nor 4xx: {Cut(text)}");
            }

            if (fuzzCase.Method == "HEAD")
            {
                // A HEAD answer has no body to carry the problem; only its status counts.
                return ($"{status} (HEAD)", null);
            }

            if (text.Length == 0 && fuzzCase.Expected is null && status is 400 or 404 or 414 or 431)
            {
                // Kestrel answered before the request reached the broker's endpoints (a malformed target, a request line
                // or headers over its limits); no Herald code ran.
                return ($"{status} from Kestrel (no body)", null);
            }

            string? detail;
            try
            {
                using var problem = JsonDocument.Parse(text);
                detail = problem.RootElement.ValueKind == JsonValueKind.Object && problem.RootElement.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            }
            catch (JsonException)
            {
                detail = null;
            }

            var outcome = $"{status} {Gist(detail)}";
            if (mediaType != "application/problem+json" || string.IsNullOrWhiteSpace(detail))
            {
                return (outcome, $"{status} without a problem+json detail (Content-Type {mediaType}): {Cut(text)}");
            }

            if (fuzzCase.Expected is { } expected && expected != status && !(status == 429 && expected is 202 or 400 or 413))
            {
                return (outcome, $"expected {expected}, got {status}: {detail}");
            }

            return (outcome, null);
        }
    }

    private static async Task SendAsync(HttpClient client, Uri baseAddress, PublishCase fuzzCase, long index, FuzzReport report, bool strict, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var (outcome, failure) = await CheckAsync(client, baseAddress, fuzzCase, cancellationToken);
        report.Record(index, outcome, Stopwatch.GetElapsedTime(started));
        if (failure is not null)
        {
            var found = new FuzzFailure(index, outcome, failure, FuzzReport.Escape(fuzzCase.Description, 400));
            if (KnownIssues.OfPublishFailure(outcome, fuzzCase.Expected is not null) is { } issue)
            {
                report.Known(issue, found, strict);
            }
            else
            {
                report.Fail(found);
            }
        }
    }

    private static string? AcceptedShapeError(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            return root.TryGetProperty("id", out var id) && Guid.TryParse(id.GetString(), out _) && root.TryGetProperty("deliveries", out var deliveries) && deliveries.TryGetInt32(out var n) && n >= 0
                ? null
                : "202 without {id, deliveries}: " + Cut(text);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return "202 whose body is not JSON: " + Cut(text);
        }
    }

    /// <summary>The start of a problem's detail up to the first quoted value, so outcomes group by kind, not by value.</summary>
    private static string Gist(string? detail)
    {
        if (string.IsNullOrEmpty(detail))
        {
            return "(no detail)";
        }

        var cut = detail.IndexOfAny(['\'', ':', '(', ';', '"']);
        var head = cut > 0 ? detail[..cut] : detail;
        return string.Join(' ', head.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(6).Select(w => w.Contains('/', StringComparison.Ordinal) ? "{account}/{workspace}" : w));
    }

    private static string Cut(string text) => text.Length <= 300 ? text : text[..300] + "...";

    /// <summary>A body sent with chunked transfer encoding (no Content-Length), in pieces.</summary>
    private sealed class ChunkedContent(byte[] body) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < body.Length; offset += 4096)
            {
                await stream.WriteAsync(body.AsMemory(offset, Math.Min(4096, body.Length - offset)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
