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
}
