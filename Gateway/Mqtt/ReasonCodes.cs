using MQTTnet.Protocol;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>Maps error codes to the MQTT 5 PUBACK reason code that says the same thing.</summary>
public static class ReasonCodes
{
    public static MqttPubAckReasonCode For(string code) => code switch
    {
        ErrorCodes.NotMember or ErrorCodes.Forbidden or ErrorCodes.Blocked or ErrorCodes.Disabled => MqttPubAckReasonCode.NotAuthorized,
        ErrorCodes.BadPayload or ErrorCodes.BadRequest or ErrorCodes.InvalidId => MqttPubAckReasonCode.PayloadFormatInvalid,
        ErrorCodes.LimitExceeded or ErrorCodes.RateLimited => MqttPubAckReasonCode.QuotaExceeded,
        WireErrors.BadTopic or ErrorCodes.NotFound => MqttPubAckReasonCode.TopicNameInvalid,
        _ => MqttPubAckReasonCode.UnspecifiedError,
    };
}
