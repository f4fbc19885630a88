using System.Globalization;
using System.Text.Json;
using Herald.Sdk;

namespace TestSubscriber;

/// <summary>
/// The test subscriber's handlers. The event body drives what a delivery gets:
/// <c>{"failAttempts": {"1": 500}}</c> answers that status on those attempts, <c>{"failUntilFixed": 400}</c> answers
/// that status until the <c>fix</c> route is called, <c>{"delayMs": N}</c> waits N ms first. Every call is recorded.
/// </summary>
public static class Handlers
{
    public static async Task HandleEvent(EventContext context)
    {
        var recorder = context.Services.GetRequiredService<Recorder>();
        var startedAt = recorder.Now;
        object outcome = 204;
        try
        {
            await BehaveAsync(context, recorder);
        }
        catch (HeraldHttpException e)
        {
            outcome = e.StatusCode;
            throw;
        }
        catch (OperationCanceledException)
        {
            outcome = "cancelled";
            throw;
        }
        catch (Exception)
        {
            outcome = 500;
            throw;
        }
        finally
        {
            recorder.Record(context, startedAt, outcome);
        }
    }

    private static async Task BehaveAsync(EventContext context, Recorder recorder)
    {
        var body = context.Body;
        if (body.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (body.TryGetProperty("failAttempts", out var failAttempts) && failAttempts.ValueKind == JsonValueKind.Object
            && failAttempts.TryGetProperty(context.Attempt.ToString(CultureInfo.InvariantCulture), out var status)
            && status.TryGetInt32(out var code))
        {
            throw new HeraldHttpException(code, $"failing attempt {context.Attempt} with {code} on purpose (failAttempts)");
        }

        if (body.TryGetProperty("failUntilFixed", out var untilFixed) && untilFixed.TryGetInt32(out var fixCode) && !recorder.Fixed)
        {
            throw new HeraldHttpException(fixCode, $"failing with {fixCode} until POST /_v/test/fix is called (failUntilFixed)");
        }

        if (body.TryGetProperty("delayMs", out var delay) && delay.TryGetInt32(out var ms) && ms > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(ms), context.CancellationToken);
        }
    }

    /// <summary><c>POST /_v/test/fire/{key}</c>: fires the event <c>key</c> with the request's JSON body, as this app.</summary>
    public static async Task Fire(HeraldRouteContext context)
    {
        if (!HttpMethods.IsPost(context.HttpContext.Request.Method))
        {
            throw new HeraldHttpException(405, "Use POST /_v/test/fire/{key} with a JSON body.");
        }

        var body = await JsonSerializer.DeserializeAsync<JsonElement>(context.HttpContext.Request.Body, cancellationToken: context.CancellationToken);
        var id = await context.Clients.Events.SendEventAsync(context, context.Params["key"], body, cancellationToken: context.CancellationToken);
        context.HttpContext.Response.ContentType = "text/plain";
        await context.HttpContext.Response.WriteAsync(id, context.CancellationToken);
    }

    /// <summary><c>POST /_v/test/fix</c>: from now on, <c>failUntilFixed</c> events succeed.</summary>
    public static async Task Fix(HeraldRouteContext context)
    {
        if (!HttpMethods.IsPost(context.HttpContext.Request.Method))
        {
            throw new HeraldHttpException(405, "Use POST /_v/test/fix.");
        }

        context.Services.GetRequiredService<Recorder>().Fix();
        context.HttpContext.Response.ContentType = "text/plain";
        await context.HttpContext.Response.WriteAsync("fixed", context.CancellationToken);
    }

    /// <summary><c>GET /_v/test/received</c>: every record so far, as a JSON array.</summary>
    public static async Task Received(HeraldRouteContext context)
    {
        if (!HttpMethods.IsGet(context.HttpContext.Request.Method))
        {
            throw new HeraldHttpException(405, "Use GET /_v/test/received.");
        }

        context.HttpContext.Response.ContentType = "application/json";
        await context.HttpContext.Response.WriteAsync(context.Services.GetRequiredService<Recorder>().ToJson(), context.CancellationToken);
    }
}
