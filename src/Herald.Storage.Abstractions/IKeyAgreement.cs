namespace Herald.Storage;

/// <summary>
/// Lets the brokers that share a store check that they were given the same keys (<c>broker.key</c> and
/// <c>admin.token</c>, shared by configuration): a broker started with other keys would refuse every token the others
/// issued, and its tokens would be refused by them. The store keeps the fingerprint the first broker brought, a
/// one-way hash of its keys; no key goes to the store. A store that several brokers can share implements it.
/// </summary>
public interface IKeyAgreement
{
    /// <summary>
    /// Records <paramref name="fingerprint"/> when the store has none yet, and returns the one it has: this one, or the
    /// one an earlier broker recorded.
    /// </summary>
    ValueTask<string> AgreeOnKeysAsync(string fingerprint, CancellationToken cancellationToken = default);
}
