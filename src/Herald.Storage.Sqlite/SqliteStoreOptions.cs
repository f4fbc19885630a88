namespace Herald.Storage.Sqlite;

/// <summary>Options of the SQLite store.</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>The database file; created with its folder when missing.</summary>
    public required string DatabasePath { get; set; }

    /// <summary>
    /// Whether to fsync on every commit (<c>synchronous=FULL</c>). With WAL, NORMAL survives a process crash but may
    /// lose the last commits on power loss; FULL survives both. <value>true</value>
    /// </summary>
    public bool SynchronousFull { get; set; } = true;

    /// <summary>How many writes may wait for the writer before callers wait too. <value>4096</value></summary>
    public int WriteQueueCapacity { get; set; } = 4096;

    /// <summary>How long a publish's <c>Idempotency-Key</c> is remembered. <value>10 minutes</value></summary>
    public TimeSpan DedupeWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How many freshly appended deliveries each open queue keeps in memory, ready to lease without reading the
    /// file. Past that a queue reads its backlog from the file in batches of this size. <value>1024</value>
    /// </summary>
    public int QueueMemoryCapacity { get; set; } = 1024;

    /// <summary>Every problem with these options, in one message; <c>null</c> when they are valid.</summary>
    public string? Validate() => Problems() is { Count: > 0 } problems ? "Invalid SQLite store options: " + string.Join(" ", problems) : null;

    /// <summary>Every value that breaks its option's rule, one line each, starting with the option's name.</summary>
    public IReadOnlyList<string> Problems()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(DatabasePath))
        {
            errors.Add("DatabasePath must name a file, e.g. ~/.herald/data/herald.db; found an empty value.");
        }

        if (WriteQueueCapacity < 1)
        {
            errors.Add($"WriteQueueCapacity must be at least 1; found {WriteQueueCapacity}.");
        }

        if (DedupeWindow < TimeSpan.Zero)
        {
            errors.Add($"DedupeWindow must not be negative; found {DedupeWindow}.");
        }

        if (QueueMemoryCapacity < 1)
        {
            errors.Add($"QueueMemoryCapacity must be at least 1; found {QueueMemoryCapacity}.");
        }

        return errors;
    }
}
