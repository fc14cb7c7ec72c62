using System.Diagnostics.Metrics;

namespace ImOrleans.Grains.Storage;

/// <summary>The message store's instruments, on the ImOrleans meter: what was stored, in batches of what size,
/// committed in how long.</summary>
public static class StoreMetrics
{
    private static readonly Meter Meter = new("ImOrleans");

    public static readonly Counter<long> MessagesStored =
        Meter.CreateCounter<long>("imorleans.messages.stored", description: "Messages appended durably to the message log");

    public static readonly Histogram<int> BatchSize =
        Meter.CreateHistogram<int>("imorleans.store.batch.size", description: "Appends committed in one transaction (group commit)");

    public static readonly Histogram<double> CommitDuration =
        Meter.CreateHistogram<double>("imorleans.store.commit.duration", unit: "ms", description: "Time to commit one batch of appends");
}
