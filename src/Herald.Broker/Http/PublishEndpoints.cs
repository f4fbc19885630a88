using System.Buffers;
using System.Globalization;
using Herald.Broker.Admin;
using Herald.Broker.Publishing;
using Herald.Broker.Registry;
using Herald.Broker.Security;
using Herald.Storage;
using Herald.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Broker.Http;

/// <summary>
/// <c>PUT|POST /{account}/{workspace}/events/{key}?resource={subject}</c> (also under <c>/courier/v0</c>), and the
/// admin's <c>POST /_herald/v1/{account}/{workspace}/events/{key}?sender=</c>.
/// </summary>
internal static class PublishEndpoints
{
    /// <summary>The sender of events the admin publishes without naming one.</summary>
    public const string CliSender = "herald.cli";

    public static void Map(IEndpointRouteBuilder routes)
    {
        foreach (var prefix in new[] { "", HeraldPaths.CourierPrefix })
        {
            routes.MapMethods(prefix + "/{account}/{workspace}/events/{key}", ["PUT", "POST"], PublishAsAppAsync).RequireAuthorization(BrokerAuth.WorkspaceAppPolicy);
        }

        routes.MapPost(HeraldPaths.AdminPrefix + "/{account}/{workspace}/events/{key}", PublishAsAdminAsync).RequireAuthorization(BrokerAuth.AdminPolicy);
    }

    private static async Task<IResult> PublishAsAppAsync(HttpContext http, string account, string workspace, string key, PublishService publisher, BrokerOptions options, ILoggerFactory loggers)
    {
        // The policy let in only an app linked in {account}/{workspace}: the event's sender is that app.
        var app = http.Caller().App!;
        if (http.RequestServices.GetRequiredService<PublishRateLimiter>().TryAcquire(account, workspace, app.Sender) is { } wait)
        {
            return Problems.Of(StatusCodes.Status429TooManyRequests, "Too many requests",
                string.Create(CultureInfo.InvariantCulture, $"{app.Sender} publishes faster than the broker allows ({options.PublishPermitsPerSecond} events/s, bursts of {options.PublishBurst}); nothing was stored. Retry after the Retry-After header's seconds."),
                wait);
        }

        return await PublishAsync(http, account, workspace, app.Sender, key, publisher, options, loggers).ConfigureAwait(false);
    }

    private static async Task<IResult> PublishAsAdminAsync(HttpContext http, string account, string workspace, string key, string? sender, PublishService publisher, BrokerOptions options, ILoggerFactory loggers)
    {
        sender ??= CliSender;
        if (!Names.IsDeclaredSender(sender))
        {
            return Problems.BadRequest($"The sender '{sender}' is not valid: it must be {Names.DeclaredSenderRule}.");
        }

        return await PublishAsync(http, account, workspace, sender, key, publisher, options, loggers).ConfigureAwait(false);
    }

    private static async Task<IResult> PublishAsync(HttpContext http, string account, string workspace, string sender, string key, PublishService publisher, BrokerOptions options, ILoggerFactory loggers)
    {
        if (http.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested)
        {
            return Problems.Unavailable("The broker is shutting down and takes no new events; nothing was stored. Retry once it is back.");
        }

        var (body, bodyError) = await ReadBodyAsync(http.Request, options.MaxBodyBytes, http.RequestAborted).ConfigureAwait(false);
        if (bodyError is not null)
        {
            return bodyError;
        }

        var subject = http.Request.Query["resource"].ToString();
        var idempotencyKey = http.Request.Headers[HeraldHeaders.IdempotencyKey].ToString() is { Length: > 0 } k ? k : null;
        if (PublishService.Validate(key, subject, idempotencyKey, body) is { } problem)
        {
            return Problems.BadRequest(problem);
        }

        try
        {
            var result = await publisher.PublishAsync(account, workspace, sender, key, subject, body, idempotencyKey, http.Request.Headers, http.RequestAborted).ConfigureAwait(false);
            return new AcceptedResult(result);
        }
        catch (StoreUnavailableException ex)
        {
            Log.PublishStoreUnavailable(loggers.CreateLogger(typeof(PublishEndpoints)), account, workspace, ex);
            return Problems.Unavailable(ex.OutcomeUnknown
                ? "The broker's store did not confirm the event in time (its cluster may have lost quorum), so it may still be stored. Resend with the same Idempotency-Key: a resend never makes a second event."
                : "The broker's store cannot write right now (for example the disk is full), so the event was not accepted. Retry later; nothing was stored.");
        }
    }

    /// <summary>
    /// The request body, read straight into an array of its declared length when it has one (the usual case), else in
    /// pooled chunks; a body over <paramref name="max"/> bytes is refused without being read further.
    /// </summary>
    private static async Task<(byte[] Body, IResult? Error)> ReadBodyAsync(HttpRequest request, long max, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } length)
        {
            if (length > max)
            {
                return ([], TooLarge(max));
            }

            var body = new byte[length];
            await request.Body.ReadExactlyAsync(body, cancellationToken).ConfigureAwait(false);
            return (body, null);
        }

        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > max)
                {
                    return ([], TooLarge(max));
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return (buffer.ToArray(), null);
    }

    /// <summary>
    /// The 202 of an accepted publish: the <see cref="PublishResponse"/> JSON (<c>{"id":"…","deliveries":N}</c>), written
    /// straight into the response. Every publish answers with it, and its two fields need no serializer.
    /// </summary>
    private sealed class AcceptedResult(AppendResult result) : IResult
    {
        private static ReadOnlySpan<byte> Start => "{\"id\":\""u8;

        private static ReadOnlySpan<byte> Middle => "\",\"deliveries\":"u8;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status202Accepted;
            response.ContentType = "application/json; charset=utf-8";
            Span<byte> json = stackalloc byte[96];
            Start.CopyTo(json);
            var length = Start.Length;
            result.EventId.TryFormat(json[length..], out var written);
            length += written;
            Middle.CopyTo(json[length..]);
            length += Middle.Length;
            result.Deliveries.TryFormat(json[length..], out written, provider: CultureInfo.InvariantCulture);
            length += written;
            json[length++] = (byte)'}';
            response.ContentLength = length;
            // Kestrel sends what is written here when the request ends: no flush of its own.
            json[..length].CopyTo(response.BodyWriter.GetSpan(length));
            response.BodyWriter.Advance(length);
            return Task.CompletedTask;
        }
    }

    private static IResult TooLarge(long max) =>
        Problems.TooLarge(string.Create(CultureInfo.InvariantCulture, $"The body is larger than the broker's limit of {max} bytes. Send a smaller event (put large data elsewhere and send a reference), or raise the broker's MaxBodyBytes option (the configuration key Herald:MaxBodyBytes)."));
}
