using Herald.Sdk;

namespace EventsExample;

/// <summary>The <c>hcheck</c> route: answers <c>ok</c> and caches the request context so the app can fire events.</summary>
public static class HealthCheck
{
    public static async Task Handle(HeraldRouteContext context)
    {
        var cache = context.Services.GetRequiredService<ContextCache>();
        cache.Set(new CachedContext(context.Account, context.Workspace, context.Credential));

        var response = context.HttpContext.Response;
        response.Headers.CacheControl = "no-cache";
        response.ContentType = "text/plain";
        await response.WriteAsync("ok", context.CancellationToken);
    }
}
