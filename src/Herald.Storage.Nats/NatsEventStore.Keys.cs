using System.Text;
using NATS.Client.KeyValueStore;

namespace Herald.Storage.Nats;

// The fingerprint of the brokers' keys: one key in a small bucket of its own, made when the first broker starts.
public sealed partial class NatsEventStore : IKeyAgreement
{
    private const string KeysFingerprintKey = "keys-fingerprint";

    /// <inheritdoc/>
    public async ValueTask<string> AgreeOnKeysAsync(string fingerprint, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(fingerprint);
        var bucket = await _kv.CreateOrUpdateStoreAsync(new NatsKVConfig(_names.ClusterBucket)
        {
            History = 1,
            NumberOfReplicas = _options.Replicas,
            Storage = NatsKVStorageType.File,
            Description = "Herald: what the brokers on this cluster must agree on",
        }, cancellationToken).ConfigureAwait(false);
        await WaitForStreamLeaderAsync("KV_" + _names.ClusterBucket, "Bucket " + _names.ClusterBucket, cancellationToken).ConfigureAwait(false);
        try
        {
            await bucket.CreateAsync(KeysFingerprintKey, fingerprint, cancellationToken: cancellationToken).ConfigureAwait(false);
            return fingerprint;
        }
        catch (NatsKVCreateException)
        {
            // Made by another broker a moment ago, perhaps: read from the leader, which has it.
            var recorded = await LatestValueAsync(_names.ClusterBucket, KeysFingerprintKey, cancellationToken).ConfigureAwait(false);
            return recorded is { } value ? Encoding.UTF8.GetString(value.Span) : "";
        }
    }
}
