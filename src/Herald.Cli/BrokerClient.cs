using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Herald.Broker.Admin;
using Herald.Protocol;

namespace Herald.Cli;

/// <summary>One event of the live tail (<c>GET /{account}/{workspace}/events</c>).</summary>
internal sealed record TailEvent(string Id, string Sender, string Key, string? Subject, JsonElement Body, DateTimeOffset Time);

/// <summary>
/// The broker's admin API over HTTP, for one account and workspace. Connection failures become
/// <see cref="BrokerUnreachableException"/>; error answers become <see cref="BrokerErrorException"/> carrying the
/// problem's <c>detail</c>.
/// </summary>
internal sealed class BrokerClient : IDisposable
{
    /// <summary>The JSON options of the admin API (camelCase).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly BrokerTarget _target;

    public BrokerClient(BrokerTarget target)
    {
        _target = target;
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) })
        {
            BaseAddress = target.Url,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        if (target.AdminToken is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", target.AdminToken);
        }
    }

    /// <summary>The broker's URL.</summary>
    public Uri Url => _target.Url;

    /// <summary>The account.</summary>
    public string Account => _target.Account;

    /// <summary>The workspace.</summary>
    public string Workspace => _target.Workspace;

    private string AdminBase => $"{HeraldPaths.AdminPrefix}/{Uri.EscapeDataString(Account)}/{Uri.EscapeDataString(Workspace)}";

    /// <summary>Links (or relinks) an app.</summary>
    public Task<LinkResponse> LinkAsync(string app, LinkRequest request, CancellationToken cancellationToken) =>
        SendAsync<LinkResponse>(HttpMethod.Put, $"{AdminBase}/apps/{Uri.EscapeDataString(app)}", JsonContent.Create(request, options: Json), cancellationToken);

    /// <summary>Unlinks an app.</summary>
    public async Task UnlinkAsync(string app, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(HttpMethod.Delete, $"{AdminBase}/apps/{Uri.EscapeDataString(app)}", null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The linked apps and their subscriptions.</summary>
    public Task<AppsResponse> GetAppsAsync(CancellationToken cancellationToken) =>
        SendAsync<AppsResponse>(HttpMethod.Get, $"{AdminBase}/apps", null, cancellationToken);

    /// <summary>Dead letters, optionally of one subscription.</summary>
    public Task<DeadLettersResponse> GetDeadLettersAsync(string? subscription, int? limit, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (subscription is not null)
        {
            query.Add("subscription=" + Uri.EscapeDataString(subscription));
        }

        if (limit is not null)
        {
            query.Add("limit=" + limit.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var path = $"{AdminBase}/deadletters" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        return SendAsync<DeadLettersResponse>(HttpMethod.Get, path, null, cancellationToken);
    }

    /// <summary>Puts dead letters back in their queue.</summary>
    public Task<RedriveResponse> RedriveAsync(RedriveRequest request, CancellationToken cancellationToken) =>
        SendAsync<RedriveResponse>(HttpMethod.Post, $"{AdminBase}/deadletters/redrive", JsonContent.Create(request, options: Json), cancellationToken);

    /// <summary>Deletes the dead letters <paramref name="request"/> selects.</summary>
    public Task<PurgeResponse> PurgeAsync(RedriveRequest request, CancellationToken cancellationToken) =>
        SendAsync<PurgeResponse>(HttpMethod.Post, $"{AdminBase}/deadletters/purge", JsonContent.Create(request, options: Json), cancellationToken);

    /// <summary>Delivers again every event routed to a subscription since a time.</summary>
    public Task<ReplayResponse> ReplayAsync(string app, string handler, DateTimeOffset since, CancellationToken cancellationToken) =>
        SendAsync<ReplayResponse>(HttpMethod.Post, $"{AdminBase}/apps/{Uri.EscapeDataString(app)}/subscriptions/{Uri.EscapeDataString(handler)}/replay",
            JsonContent.Create(new ReplayRequest(since), options: Json), cancellationToken);

    /// <summary>Publishes an event as <paramref name="sender"/>.</summary>
    public Task<PublishResponse> PublishAsync(string key, string sender, string? subject, string bodyJson, CancellationToken cancellationToken)
    {
        var path = $"{AdminBase}/events/{Uri.EscapeDataString(key)}?sender={Uri.EscapeDataString(sender)}";
        if (subject is not null)
        {
            path += "&resource=" + Uri.EscapeDataString(subject);
        }

        var content = new StringContent(bodyJson, Encoding.UTF8, "application/json");
        return SendAsync<PublishResponse>(HttpMethod.Post, path, content, cancellationToken);
    }

    /// <summary>Throws <see cref="BrokerUnreachableException"/> when nothing answers at the broker's URL.</summary>
    public async Task EnsureReachableAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            using var response = await _http.GetAsync(new Uri("/healthz", UriKind.Relative), timeout.Token).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (IsUnreachable(e))
        {
            throw new BrokerUnreachableException(Url, e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BrokerUnreachableException(Url, e);
        }
    }

    /// <summary>Whether the broker answers <c>/readyz</c> with 200 (false when it cannot be reached).</summary>
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            using var response = await _http.GetAsync(new Uri("/readyz", UriKind.Relative), timeout.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Calls a path through the broker's router (<c>/{account}/{workspace}{path}</c>) and returns the body.</summary>
    public async Task<(int Status, string Body)> GetThroughRouterAsync(string path, CancellationToken cancellationToken)
    {
        var full = $"/{Uri.EscapeDataString(Account)}/{Uri.EscapeDataString(Workspace)}{path}";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            using var response = await _http.GetAsync(new Uri(full, UriKind.Relative), timeout.Token).ConfigureAwait(false);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false));
        }
        catch (HttpRequestException e) when (IsUnreachable(e))
        {
            throw new BrokerUnreachableException(Url, e);
        }
    }

    /// <summary>The delivery activity of the workspace, as it happens, until cancelled.</summary>
    public IAsyncEnumerable<ActivityInfo> ActivityAsync(CancellationToken cancellationToken, Action? opened = null) =>
        StreamAsync<ActivityInfo>($"{AdminBase}/activity", cancellationToken, opened);

    /// <summary>The events of the workspace, as they are published, until cancelled.</summary>
    public IAsyncEnumerable<TailEvent> TailAsync(string? sender, IReadOnlyList<string> keys, CancellationToken cancellationToken, Action? opened = null)
    {
        var query = new List<string>();
        if (sender is not null)
        {
            query.Add("sender=" + Uri.EscapeDataString(sender));
        }

        query.AddRange(keys.Select(k => "keys=" + Uri.EscapeDataString(k)));
        var path = $"/{Uri.EscapeDataString(Account)}/{Uri.EscapeDataString(Workspace)}/{HeraldPaths.EventsSegment}" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        return StreamAsync<TailEvent>(path, cancellationToken, opened);
    }

    /// <summary>
    /// Opens a Server-Sent Events stream and yields each message's <c>data</c> as <typeparamref name="T"/>.
    /// <paramref name="opened"/> is called once the broker has answered (before the first message).
    /// </summary>
    public async IAsyncEnumerable<T> StreamAsync<T>(string path, [EnumeratorCancellation] CancellationToken cancellationToken, Action? opened = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await SendCoreAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        opened?.Invoke();
        Stream stream;
        try
        {
            stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new BrokerUnreachableException(Url, e);
        }

        // Each message's data is one JSON object; pings (event: ping) and other event types are skipped.
        await using var messages = SseParser.Create(stream).EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            bool more;
            try
            {
                more = await messages.MoveNextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                throw new CliException($"Lost the connection to the Herald broker at {Url.GetLeftPart(UriPartial.Authority)}.", ExitCodes.Unavailable, e);
            }

            if (!more)
            {
                throw new CliException($"The Herald broker at {Url.GetLeftPart(UriPartial.Authority)} closed the stream (did it stop?).", ExitCodes.Unavailable);
            }

            var message = messages.Current;
            if (message.EventType == SseParser.EventTypeDefault && message.Data.Length > 0 && Deserialize<T>(message.Data) is { } item)
            {
                yield return item;
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();

    private static T? Deserialize<T>(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Json);
        }
        catch (JsonException)
        {
            return default;
        }
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(method, path, content, cancellationToken).ConfigureAwait(false);
        try
        {
            var body = await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken).ConfigureAwait(false);
            return body ?? throw new CliException($"The broker answered {method} {path} with an empty body.", ExitCodes.Unavailable);
        }
        catch (JsonException e)
        {
            throw new CliException($"The broker answered {method} {path} with a body this CLI does not understand ({e.Message}). Are the CLI and the broker the same version?", ExitCodes.Unavailable, e);
        }
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = content };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            return await SendCoreAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"The Herald broker at {Url.GetLeftPart(UriPartial.Authority)} did not answer {method} {path} within {RequestTimeout.TotalSeconds:0} s.", ExitCodes.Unavailable, e);
        }
    }

    private async Task<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (IsUnreachable(e))
        {
            throw new BrokerUnreachableException(Url, e);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await ErrorFromAsync(request, response, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<BrokerErrorException> ErrorFromAsync(HttpRequestMessage request, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        string? detail = null;
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (text.Length > 0)
            {
                using var document = JsonDocument.Parse(text);
                if (document.RootElement.ValueKind == JsonValueKind.Object)
                {
                    detail = document.RootElement.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()
                        : document.RootElement.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()
                        : null;
                }
            }
        }
        catch (JsonException)
        {
        }
        catch (HttpRequestException)
        {
        }

        detail ??= $"The broker answered {request.Method} {request.RequestUri} with {status} {response.ReasonPhrase}.";
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            detail += _target.AdminToken is null
                ? $" No admin token was found (looked in {_target.AdminTokenSource}): set {EnvironmentNames.AdminToken}, or run 'herald up' on this machine, which writes it."
                : $" The admin token from {_target.AdminTokenSource} was refused: is it the token of the broker at {Url.GetLeftPart(UriPartial.Authority)}?";
        }

        return new BrokerErrorException(status, detail);
    }

    private static bool IsUnreachable(HttpRequestException e) =>
        e.StatusCode is null && e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
            or HttpRequestError.SecureConnectionError or HttpRequestError.Unknown or HttpRequestError.ResponseEnded;
}
