namespace Herald.Broker;

/// <summary>
/// A broker was started with keys (<c>broker.key</c>, <c>admin.token</c>) other than those of the brokers already
/// sharing its store; it does not start. The message says both fingerprints and what to do.
/// </summary>
public sealed class BrokerKeysMismatchException(string message) : Exception(message);
