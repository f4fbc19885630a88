namespace Herald;

/// <summary>
/// An event as the broker accepted it. <see cref="Id"/> is a UUIDv7 made by the broker and stays the same
/// across every retry; <see cref="Body"/> is the published JSON, kept byte for byte.
/// </summary>
public sealed record HeraldEvent(
    Guid Id,
    string Account,
    string Workspace,
    string Sender,
    string Key,
    string Subject,
    ReadOnlyMemory<byte> Body,
    DateTimeOffset Time,
    string? TraceParent);
