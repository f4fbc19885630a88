using Microsoft.AspNetCore.Http;

namespace Herald.Broker.Http;

/// <summary>RFC 9457 problem responses whose <c>detail</c> says what was wrong and what to do.</summary>
internal static class Problems
{
    public static IResult Of(int status, string title, string detail, TimeSpan? retryAfter = null)
    {
        var result = Results.Problem(detail: detail, statusCode: status, title: title);
        return retryAfter is { } wait ? new WithRetryAfter(result, wait) : result;
    }

    public static IResult BadRequest(string detail) => Of(StatusCodes.Status400BadRequest, "Bad request", detail);

    public static IResult Unauthorized(string detail) => Of(StatusCodes.Status401Unauthorized, "Unauthorized", detail);

    public static IResult Forbidden(string detail) => Of(StatusCodes.Status403Forbidden, "Forbidden", detail);

    public static IResult NotFound(string detail) => Of(StatusCodes.Status404NotFound, "Not found", detail);

    public static IResult TooLarge(string detail) => Of(StatusCodes.Status413PayloadTooLarge, "Payload too large", detail);

    public static IResult Unavailable(string detail) => Of(StatusCodes.Status503ServiceUnavailable, "Service unavailable", detail, TimeSpan.FromSeconds(1));

    private sealed class WithRetryAfter(IResult inner, TimeSpan wait) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
