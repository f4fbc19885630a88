using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Herald.Protocol;
using Herald.Sdk.Internal;
using Microsoft.Extensions.Logging;
using Polly.Timeout;

namespace Herald.Sdk;

/// <summary>
/// Fires events through the broker (<c>PUT /{account}/{workspace}/events/{key}?resource={subject}</c>), with the
/// options of the <c>events</c> IO client. Each call carries one fresh <c>Idempotency-Key</c>, kept across its retries,
/// so a retried publish never fans out twice.
/// </summary>
public sealed class EventsClient
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    private readonly ClientRegistry _registry;
    private readonly HeraldAppSettings _settings;
    private readonly ILogger _logger;
    private readonly IHeraldContext? _context;

    internal EventsClient(ClientRegistry registry, HeraldAppSettings settings, ILogger logger, IHeraldContext? context = null)
    {
        _registry = registry;
        _settings = settings;
        _logger = logger;
        _context = context;
    }

    /// <summary>This client bound to <paramref name="context"/>: its account, workspace and credential.</summary>
    public EventsClient For(IHeraldContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new EventsClient(_registry, _settings, _logger, context);
    }

    /// <summary>
    /// Fires <paramref name="key"/> in the bound context, or else in <c>HERALD_ACCOUNT</c>/<c>HERALD_WORKSPACE</c>.
    /// </summary>
    /// <param name="key">The event key, e.g. <c>send-event</c>.</param>
    /// <param name="body">The body: anything that serializes to a JSON object or array (a <see cref="JsonElement"/> too).</param>
    /// <param name="subject">The event subject (<c>resource</c>), if any.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The event id the broker gave.</returns>
    public Task<string> SendEventAsync(string key, object body, string? subject = null, CancellationToken cancellationToken = default)
    {
        var account = _context?.Account ?? _settings.Account;
        var workspace = _context?.Workspace ?? _settings.Workspace;
        if (account is null || workspace is null)
        {
            throw new HeraldClientException(
                "The Events client does not know the account and workspace to fire in: pass a context or the account and workspace, or run the app with 'herald link' (which sets HERALD_ACCOUNT and HERALD_WORKSPACE).");
        }

        return SendAsync(account, workspace, _context?.Credential, key, body, subject, cancellationToken);
    }

    /// <summary>Fires <paramref name="key"/> in the account and workspace of <paramref name="context"/>, with its credential.</summary>
    /// <returns>The event id the broker gave.</returns>
    public Task<string> SendEventAsync(IHeraldContext context, string key, object body, string? subject = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return SendAsync(context.Account, context.Workspace, context.Credential, key, body, subject, cancellationToken);
    }

    /// <summary>Fires <paramref name="key"/> in <paramref name="account"/>/<paramref name="workspace"/>.</summary>
    /// <returns>The event id the broker gave.</returns>
    public Task<string> SendEventAsync(string account, string workspace, string key, object body, string? subject = null, CancellationToken cancellationToken = default) =>
        SendAsync(account, workspace, _context?.Credential, key, body, subject, cancellationToken);

    private async Task<string> SendAsync(string account, string workspace, string? credential, string key, object body, string? subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (!Names.IsAccount(account))
        {
            throw new ArgumentException($"'{account}' is not an account: {Names.TenantRule}.", nameof(account));
        }

        if (!Names.IsWorkspace(workspace))
        {
            throw new ArgumentException($"'{workspace}' is not a workspace: {Names.TenantRule}.", nameof(workspace));
        }

        if (!Names.IsKey(key))
        {
            throw new ArgumentException($"'{key}' is not an event key: {Names.KeyRule}.", nameof(key));
        }

        var payload = body is JsonElement element ? JsonSerializer.SerializeToUtf8Bytes(element) : JsonSerializer.SerializeToUtf8Bytes(body, body.GetType());
        if (payload.Length == 0 || payload[0] is not ((byte)'{' or (byte)'['))
        {
            throw new ArgumentException("An event body must serialize to a JSON object or array.", nameof(body));
        }

        var broker = _settings.BrokerUrl ?? throw new HeraldClientException(
            $"The Events client does not know the broker: run the app with 'herald link', or set {HeraldAppSettings.BrokerUrlKey} (e.g. http://127.0.0.1:8080).");
        var token = credential ?? _settings.AppToken ?? throw new HeraldClientException(
            $"The Events client has no app token: run the app with 'herald link', or set {HeraldAppSettings.AppTokenKey}.");

        var path = $"{broker.AbsoluteUri.TrimEnd('/')}/{Uri.EscapeDataString(account)}/{Uri.EscapeDataString(workspace)}/{HeraldPaths.EventsSegment}/{Uri.EscapeDataString(key)}";
        if (subject is not null)
        {
            path += "?resource=" + Uri.EscapeDataString(subject);
        }

        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.TryAddWithoutValidation(HeraldHeaders.IdempotencyKey, Guid.CreateVersion7().ToString());
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity)
        {
            // traceparent and tracestate, as the process's propagator writes them; the broker's publish span continues them.
            DistributedContextPropagator.Current.Inject(activity, request.Headers, static (carrier, name, value) => ((HttpRequestHeaders)carrier!).TryAddWithoutValidation(name, value));
        }

        request.Content = new ByteArrayContent(payload);
        request.Content.Headers.ContentType = JsonContentType;

        var client = _registry.CreateClient(HeraldClientsOptions.EventsClientName);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException)
        {
            throw new HeraldClientException(
                $"Could not fire '{key}': the broker at {broker} did not answer ({e.Message}). Check that it runs ('herald up') and that {HeraldAppSettings.BrokerUrlKey} points at it.",
                innerException: e);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Accepted || response.IsSuccessStatusCode)
            {
                var id = ReadId(text) ?? throw new HeraldClientException(
                    $"The broker accepted '{key}' but its answer has no event id: {Truncate(text)}", (int)response.StatusCode);
                Log.EventSent(_logger, key, account, workspace, id);
                return id;
            }

            var detail = ProblemDetail(text);
            throw new HeraldClientException(
                $"The broker refused event '{key}' in {account}/{workspace} with {(int)response.StatusCode}: {detail ?? Truncate(text)}",
                (int)response.StatusCode,
                detail);
        }
    }

    private static string? ReadId(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("id", out var id)
                && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? ProblemDetail(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("detail", out var detail)
                && detail.ValueKind == JsonValueKind.String ? detail.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Truncate(string text) => text.Length <= 500 ? text : text[..500] + "…";
}
