namespace ImOrleans.Grains.Push;

/// <summary>How a provider answered one send.</summary>
public enum PushStatus
{
    /// <summary>Accepted by the provider.</summary>
    Sent,
    /// <summary>Try again later (429, 5xx, an expired access token, a network error).</summary>
    Retry,
    /// <summary>The device token is dead: the registration is deleted.</summary>
    TokenDead,
    /// <summary>Refused for good (a malformed request, a quota, bad credentials): dropped.</summary>
    Failed,
}

/// <summary>A provider's answer; <see cref="RetryAfter"/> is what the provider asked for (Retry-After), if anything.</summary>
public readonly record struct PushResult(PushStatus Status, string Reason, TimeSpan? RetryAfter = null)
{
    public static PushResult Sent => new(PushStatus.Sent, "ok");
    public static PushResult Dead(string reason) => new(PushStatus.TokenDead, reason);
    public static PushResult Failed(string reason) => new(PushStatus.Failed, reason);
    public static PushResult Retry(string reason, TimeSpan? after = null) => new(PushStatus.Retry, reason, after);
}
