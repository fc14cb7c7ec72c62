using System.Diagnostics.Metrics;

namespace ImOrleans.Grains.Push;

/// <summary>Push outcomes on the ImOrleans meter, tagged by provider and result only (never a user or token).</summary>
public static class PushMetrics
{
    private static readonly Meter Meter = new("ImOrleans");

    /// <summary>Results: sent, retried (one per retry), token_removed, failed (gave up or refused), dropped (queue full).</summary>
    public static readonly Counter<long> Outcomes =
        Meter.CreateCounter<long>("imorleans.push.outcomes", description: "Push notification attempts, by provider and result");

    public static void Count(string provider, string result) =>
        Outcomes.Add(1, new KeyValuePair<string, object?>("provider", provider), new KeyValuePair<string, object?>("result", result));
}
