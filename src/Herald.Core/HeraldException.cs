namespace Herald;

/// <summary>The base of every exception Herald's libraries throw on purpose.</summary>
public abstract class HeraldException : Exception
{
    protected HeraldException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
