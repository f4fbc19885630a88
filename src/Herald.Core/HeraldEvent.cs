namespace Herald;

/// <summary>
/// An event as the broker accepted it. <see cref="Id"/> is a UUIDv7 made by the broker and stays the same
/// across every retry; <see cref="Body"/> is the published JSON, kept byte for byte; <see cref="TraceParent"/> and
/// <see cref="TraceState"/> are the W3C trace context of its publish, the parent of every delivery attempt.
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
    string? TraceParent)
{
    /// <summary>The W3C <c>tracestate</c> that goes with <see cref="TraceParent"/>, when the publisher sent one.</summary>
    public string? TraceState { get; init; }
}
