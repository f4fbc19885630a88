namespace Herald.Cli;

/// <summary>An error to show the user as it is, without a stack trace, ending the command with <see cref="ExitCode"/>.</summary>
internal class CliException : Exception
{
    public CliException(string message, int exitCode = ExitCodes.UserError, Exception? innerException = null)
        : base(message, innerException)
    {
        ExitCode = exitCode;
    }

    /// <summary>The process exit code.</summary>
    public int ExitCode { get; }
}

/// <summary>The broker did not answer at all.</summary>
internal sealed class BrokerUnreachableException : CliException
{
    public BrokerUnreachableException(Uri broker, Exception? innerException = null)
        : base(MessageFor(broker), ExitCodes.Unavailable, innerException)
    {
        Broker = broker;
    }

    /// <summary>The broker's URL.</summary>
    public Uri Broker { get; }

    /// <summary>The message shown when the broker at <paramref name="broker"/> cannot be reached.</summary>
    public static string MessageFor(Uri broker) =>
        $"Cannot reach the Herald broker at {broker.GetLeftPart(UriPartial.Authority)}. Start it with 'herald up' (or pass --broker / set HERALD_BROKER_URL).";
}

/// <summary>The broker answered with an error (its problem details' <c>detail</c> is the message).</summary>
internal sealed class BrokerErrorException : CliException
{
    public BrokerErrorException(int status, string message)
        : base(message, status >= 500 ? ExitCodes.Unavailable : ExitCodes.UserError)
    {
        Status = status;
    }

    /// <summary>The HTTP status the broker answered.</summary>
    public int Status { get; }
}

/// <summary>The CLI's exit codes.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>The user asked for something wrong (bad input, invalid app, refused by the broker).</summary>
    public const int UserError = 1;

    /// <summary>The broker could not be reached or failed.</summary>
    public const int Unavailable = 2;

    /// <summary>Stopped by Ctrl+C before it was done.</summary>
    public const int Cancelled = 130;
}
