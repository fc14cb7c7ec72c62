namespace ImOrleans.Tools.LoadGen.Scenarios;

/// <summary>The bounds that make every scenario end, even against a server that stalls.</summary>
public static class Deadlines
{
    /// <summary>How long a publish may wait for its PUBACK after the sending phase ended.</summary>
    public static readonly TimeSpan Publish = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for the last deliveries once everything is sent.</summary>
    public static readonly TimeSpan Drain = TimeSpan.FromSeconds(30);

    /// <summary>How long one fan-out message may take to reach its last member.</summary>
    public static readonly TimeSpan FanOut = TimeSpan.FromSeconds(15);

    /// <summary>Pause after the last delivery before reading the server's CPU time, so the work that directly follows
    /// a delivery (acknowledgements, receipts) is counted with it.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(500);
}
