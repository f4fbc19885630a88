using System.Security.Cryptography;
using System.Text;

namespace Herald.Storage.Nats.Internal;

/// <summary>
/// The names of everything the store makes on the cluster, under one prefix. A subscription id
/// (<c>{account}/{workspace}/{vendor.name}/{handler}</c>) is not a valid subject token or consumer name, so each
/// subscription is known on the cluster by a token: the first 128 bits of the SHA-256 of its id, in hex.
/// </summary>
internal sealed class StoreNames(string prefix)
{
    public string EventsStream { get; } = prefix + "-events";

    public string DeliveriesStream { get; } = prefix + "-deliveries";

    public string DeadLettersStream { get; } = prefix + "-dead-letters";

    public string DeliveredStream { get; } = prefix + "-delivered";

    public string AppsBucket { get; } = prefix + "-apps";

    public string AttemptsBucket { get; } = prefix + "-attempts";

    public string ClusterBucket { get; } = prefix + "-cluster";

    public string FanOutConsumer { get; } = prefix + "-fanout";

    public string Root { get; } = prefix.ToLowerInvariant();

    public string AllEvents => Root + ".ev.>";

    public string AllDeliveries => Root + ".dlv.*";

    public string AllDelivered => Root + ".done.*";

    public string AllDeadLetters => Root + ".dlq.>";

    /// <summary><c>{root}.ev.{account}.{workspace}.{sender}.{key}</c>, dots in the sender and key written as '~'.</summary>
    public string Event(HeraldEvent evt) => $"{Root}.ev.{evt.Account}.{evt.Workspace}.{Escape(evt.Sender)}.{Escape(evt.Key)}";

    /// <summary>
    /// <c>{root}.ev.{account}.{workspace}.{sender}.~{keyHash}</c>: an event published with an Idempotency-Key, on a subject
    /// of its key, whose last message is the key's last event. An event key starts with a letter or digit, so the '~' keeps
    /// these subjects apart from <see cref="Event(HeraldEvent)"/>'s.
    /// </summary>
    public string KeyedEvent(HeraldEvent evt, string keyHash) => $"{Root}.ev.{evt.Account}.{evt.Workspace}.{Escape(evt.Sender)}.~{keyHash}";

    public string Deliveries(string token) => $"{Root}.dlv.{token}";

    public string Delivered(string token) => $"{Root}.done.{token}";

    public string DeadLetters(string account, string workspace, string token) => $"{Root}.dlq.{account}.{workspace}.{token}";

    public string WorkspaceDeadLetters(string account, string workspace) => $"{Root}.dlq.{account}.{workspace}.*";

    /// <summary><c>{root}.feed.{feed}</c>: the live feeds brokers relay to each other.</summary>
    public string Feed(string feed) => $"{Root}.feed.{feed}";

    /// <summary><c>{root}.feed-readers.{feed}</c>: where a broker with readers of a feed says so.</summary>
    public string FeedReaders(string feed) => $"{Root}.feed-readers.{feed}";

    public string Consumer(string token) => $"{prefix}-q-{token}";

    /// <summary>The token that stands for <paramref name="subscriptionId"/> on the cluster.</summary>
    public static string Token(string subscriptionId) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(subscriptionId)).AsSpan(0, 16));

    /// <summary>The last token of a subject.</summary>
    public static string LastToken(string subject) => subject[(subject.LastIndexOf('.') + 1)..];

    private static string Escape(string token) => token.Replace('.', '~');
}
