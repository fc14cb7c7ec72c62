namespace ImOrleans.Grains.Push;

/// <summary>The push subsystem's own settings (section <c>Push</c>); each provider has its own subsection
/// (<c>Push:Fcm</c>, <c>Push:Apns</c>, …) and is on when its credentials are set.</summary>
public sealed class PushOptions
{
    public const string Section = "Push";

    /// <summary>Alerts waiting per provider; past it new ones are dropped (counted as <c>dropped</c>), never waited for.</summary>
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>Concurrent sends per provider.</summary>
    public int WorkersPerProvider { get; set; } = 4;

    /// <summary>Sends of one alert at most (the first included) before it is given up.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Wait before the first retry when the service gives no Retry-After; doubles on each retry.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait between two attempts, a longer Retry-After included (the alert is given up instead).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Timeout of one HTTP request to a push service.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Characters of message text in a notification when the user allows previews.</summary>
    public int PreviewLength { get; set; } = 100;
}
