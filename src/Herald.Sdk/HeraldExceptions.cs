namespace Herald.Sdk;

/// <summary>
/// Thrown by a handler to answer with an HTTP status: the broker retries on 408, 429 and 5xx and dead-letters the
/// event on any other 4xx. The message becomes the problem's <c>detail</c>.
/// </summary>
public class HeraldHttpException : HeraldException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="statusCode">The HTTP status to answer with, 400 to 599.</param>
    /// <param name="message">What was wrong and what to do; sent as the problem's detail.</param>
    /// <param name="innerException">The cause, if any.</param>
    public HeraldHttpException(int statusCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        StatusCode = statusCode;
    }

    /// <summary>The HTTP status the handler answers with.</summary>
    public int StatusCode { get; }
}

/// <summary>Thrown by a handler to answer 429 so that the broker retries later, after <see cref="RetryAfter"/> if given.</summary>
public sealed class TooManyRequestsException : HeraldHttpException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the handler is busy.</param>
    /// <param name="retryAfter">When to retry, sent as <c>Retry-After</c> (whole seconds, rounded up).</param>
    public TooManyRequestsException(string message = "The handler is busy; retry later.", TimeSpan? retryAfter = null)
        : base(429, message)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>When to retry. <value>null: the broker's backoff decides</value></summary>
    public TimeSpan? RetryAfter { get; }
}

/// <summary>Thrown by an IO client (such as the Events client) when a call fails after its retries.</summary>
public sealed class HeraldClientException : HeraldException
{
    /// <summary>Creates the exception.</summary>
    public HeraldClientException(string message, int? statusCode = null, string? detail = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        Detail = detail;
    }

    /// <summary>The HTTP status of the last answer. <value>null when no answer came (timeout, network error)</value></summary>
    public int? StatusCode { get; }

    /// <summary>The problem's <c>detail</c> from the answer, if it had one.</summary>
    public string? Detail { get; }
}

/// <summary>Thrown at start-up when the service, its manifests or its configuration do not fit together.</summary>
public sealed class HeraldConfigurationException : HeraldException
{
    /// <summary>Creates the exception.</summary>
    public HeraldConfigurationException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
