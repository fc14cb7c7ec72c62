namespace ImOrleans;

/// <summary>Stable snake_case error codes shared by grains, the MQTT protocol and the gRPC API.</summary>
public static class ErrorCodes
{
    public const string BadRequest = "bad_request";
    public const string BadPayload = "bad_payload";
    public const string InvalidId = "invalid_id";
    public const string WeakPassword = "weak_password";
    public const string NotFound = "not_found";
    public const string AlreadyExists = "already_exists";
    public const string NotMember = "not_member";
    public const string Forbidden = "forbidden";
    public const string Blocked = "blocked";
    public const string Disabled = "disabled";
    public const string LimitExceeded = "limit_exceeded";
    public const string RateLimited = "rate_limited";
    public const string Unavailable = "unavailable";
    public const string PushUnavailable = "push_unavailable";
    public const string Internal = "internal";
}
