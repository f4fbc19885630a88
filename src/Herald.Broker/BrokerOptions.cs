namespace Herald.Broker;

/// <summary>Options of the broker, validated at start-up.</summary>
public sealed class BrokerOptions
{
    /// <summary>Where the broker listens. <value>http://127.0.0.1:8080</value></summary>
    public string Url { get; set; } = "http://127.0.0.1:8080";

    /// <summary>The data folder: the store's files and <c>admin.token</c>. <value>~/.herald/data</value></summary>
    public string DataDirectory { get; set; } = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".herald", "data");

    /// <summary>The largest publish body accepted, in bytes. <value>1048576 (1 MiB)</value></summary>
    public long MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// How long a delivery is leased to an attempt; while the attempt runs the lease is extended every third of this.
    /// A broker that dies mid-attempt gives its deliveries back after at most this long. <value>30 seconds</value>
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest a subscription's worker waits on its queue before asking again, and how long a failing loop waits
    /// before it goes on. Queues wake their worker themselves when a delivery becomes due. <value>1 second</value>
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many finished attempts of one subscription may wait for their settlement to be written; leasing pauses
    /// while that many wait. <value>1024</value>
    /// </summary>
    public int SettlementQueueCapacity { get; set; } = 1024;

    /// <summary>The most settlements of one subscription written in one batch. <value>256</value></summary>
    public int SettlementBatch { get; set; } = 256;

    /// <summary>How long a graceful shutdown waits for attempts in flight. <value>10 seconds</value></summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Events one app may publish per second in one workspace, on average. <value>5000</value></summary>
    public int PublishPermitsPerSecond { get; set; } = 5000;

    /// <summary>How many events one app may publish in a burst above the average. <value>5000</value></summary>
    public int PublishBurst { get; set; } = 5000;

    /// <summary>
    /// Hosts (besides loopback) that app endpoints may be on. Herald delivers only to loopback unless a host is
    /// listed here. <value>empty</value>
    /// </summary>
    public IList<string> AllowedEndpointHosts { get; } = [];

    /// <summary>
    /// How long delivered events are kept for replay; older ones are pruned (pending, in-flight and dead ones never
    /// are). <value>7 days</value>
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often the pruning job runs. <value>1 minute</value></summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Events deleted per pruning transaction, so pruning never holds the writer for long. <value>500</value></summary>
    public int PruneBatch { get; set; } = 500;

    /// <summary>
    /// How often the subscriptions' counts are read from the store for the backlog gauges. Each read counts every
    /// subscription's deliveries, delivered ones kept for replay included, so keep it near the metrics' scrape
    /// interval. <value>10 seconds</value>
    /// </summary>
    public TimeSpan BacklogSampleInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Every problem with these options, in one message; <c>null</c> when they are valid.</summary>
    public string? Validate() => Problems() is { Count: > 0 } problems ? "Invalid broker options: " + string.Join(" ", problems) : null;

    /// <summary>Every value that breaks its option's rule, one line each, starting with the option's name.</summary>
    public IReadOnlyList<string> Problems()
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            errors.Add($"Url must be an absolute http(s) URL; found '{Url}'.");
        }

        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            errors.Add("DataDirectory must name a folder; found an empty value.");
        }

        if (MaxBodyBytes is < 1024 or > 64L * 1024 * 1024)
        {
            errors.Add($"MaxBodyBytes must be from 1024 to 67108864; found {MaxBodyBytes}.");
        }

        if (LeaseDuration < TimeSpan.FromSeconds(1))
        {
            errors.Add($"LeaseDuration must be at least 1 second; found {LeaseDuration}.");
        }

        AtLeastOne(errors, nameof(SettlementQueueCapacity), SettlementQueueCapacity);
        AtLeastOne(errors, nameof(SettlementBatch), SettlementBatch);
        AtLeastOne(errors, nameof(PublishPermitsPerSecond), PublishPermitsPerSecond);
        AtLeastOne(errors, nameof(PublishBurst), PublishBurst);
        AtLeastOne(errors, nameof(PruneBatch), PruneBatch);
        Positive(errors, nameof(Retention), Retention);
        Positive(errors, nameof(PruneInterval), PruneInterval);
        Positive(errors, nameof(PollInterval), PollInterval);
        Positive(errors, nameof(ShutdownGrace), ShutdownGrace);
        Positive(errors, nameof(BacklogSampleInterval), BacklogSampleInterval);
        foreach (var host in AllowedEndpointHosts)
        {
            if (Uri.CheckHostName(host) == UriHostNameType.Unknown)
            {
                errors.Add($"AllowedEndpointHosts must list host names or addresses, without scheme or port; found '{host}'.");
            }
        }

        return errors;
    }

    private static void AtLeastOne(List<string> errors, string name, int value)
    {
        if (value < 1)
        {
            errors.Add($"{name} must be at least 1; found {value}.");
        }
    }

    private static void Positive(List<string> errors, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{name} must be a positive duration; found {value}.");
        }
    }
}
