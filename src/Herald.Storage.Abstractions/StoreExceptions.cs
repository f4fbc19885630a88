namespace Herald.Storage;

/// <summary>The base of the exceptions a store throws on purpose.</summary>
public abstract class StoreException : HeraldException
{
    protected StoreException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The store cannot write or read now (full disk, lost connection, no quorum): the broker answers 503. On a write,
/// nothing was written, unless <see cref="OutcomeUnknown"/> says the write may still commit.
/// </summary>
public sealed class StoreUnavailableException : StoreException
{
    public StoreUnavailableException(string message, Exception? innerException = null, bool outcomeUnknown = false)
        : base(message, innerException)
    {
        OutcomeUnknown = outcomeUnknown;
    }

    /// <summary>Whether the write may have committed anyway (a cluster store that could not confirm it in time).</summary>
    public bool OutcomeUnknown { get; }
}

/// <summary>An id given to the store is not one it hands out (e.g. a dead-letter id of another store).</summary>
public sealed class InvalidStoreIdException : StoreException
{
    public InvalidStoreIdException(string id, string expected)
        : base($"'{id}' is not a valid id: {expected}")
    {
        Id = id;
    }

    /// <summary>The id that was refused.</summary>
    public string Id { get; }
}
