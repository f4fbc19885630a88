using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Herald.Sdk.Internal;

/// <summary>Writes RFC 9457 problem responses.</summary>
internal static class Problems
{
    public static Task WriteAsync(HttpContext http, int status, string title, string detail, TimeSpan? retryAfter = null)
    {
        if (http.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        http.Response.Clear();
        if (retryAfter is { } wait)
        {
            http.Response.Headers[HeaderNames.RetryAfter] = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        return TypedResults.Problem(detail: detail, statusCode: status, title: title).ExecuteAsync(http);
    }
}
