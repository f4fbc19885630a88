using System.Runtime.InteropServices;

namespace Herald.Storage.Sqlite.Internal;

/// <summary>
/// How one transaction's writes change each subscription's delivery counts (pending, delivered, dead), gathered as the
/// writes run and added to <c>subscription_counts</c> just before the transaction commits: one row write per subscription
/// a commit touched, where a count taken through the deliveries would read every delivery the file keeps.
/// </summary>
internal sealed class DeliveryCountChanges
{
    private const string AddToCounts = """
        INSERT INTO subscription_counts (subscription_id, pending, delivered, dead) VALUES (?1, ?2, ?3, ?4)
        ON CONFLICT (subscription_id) DO UPDATE SET pending = pending + excluded.pending, delivered = delivered + excluded.delivered, dead = dead + excluded.dead
        """;

    private readonly Dictionary<string, Change> _changes = new(StringComparer.Ordinal);

    /// <summary>Records that <paramref name="subscriptionId"/>'s counts change by these amounts when the transaction commits.</summary>
    public void Add(string subscriptionId, long pending = 0, long delivered = 0, long dead = 0)
    {
        ref var change = ref CollectionsMarshal.GetValueRefOrAddDefault(_changes, subscriptionId, out _);
        change.Pending += pending;
        change.Delivered += delivered;
        change.Dead += dead;
    }

    /// <summary>Adds the gathered changes to the counts in the transaction <paramref name="writer"/> is about to commit.</summary>
    public void Write(GroupCommitWriter writer)
    {
        foreach (var (subscriptionId, change) in _changes)
        {
            if (change is { Pending: 0, Delivered: 0, Dead: 0 })
            {
                continue;
            }

            var add = writer.Prepared(AddToCounts);
            add.Bind(1, subscriptionId);
            add.Bind(2, change.Pending);
            add.Bind(3, change.Delivered);
            add.Bind(4, change.Dead);
            add.Execute();
        }

        _changes.Clear();
    }

    /// <summary>Forgets the gathered changes: their transaction did not commit.</summary>
    public void Clear() => _changes.Clear();

    private struct Change
    {
        public long Pending;
        public long Delivered;
        public long Dead;
    }
}
