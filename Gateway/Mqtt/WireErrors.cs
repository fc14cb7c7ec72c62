namespace ImOrleans.Gateway.Mqtt;

/// <summary>Refusals found by the gateway itself (bad topic, bad JSON, rate limit), reported like domain errors.</summary>
public static class WireErrors
{
    public const string BadTopic = "bad_topic";
    public const string UnknownMethod = "unknown_method";

    public static ImException BadPayload(string message) => new(ErrorCodes.BadPayload, message);
}
