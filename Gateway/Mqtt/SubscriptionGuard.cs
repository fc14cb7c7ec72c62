using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>A device may subscribe to its own tree <c>u/{self}/#</c> (or topics in it) and nothing else.</summary>
public sealed class SubscriptionGuard
{
    /// <summary>The SUBACK: each filter granted at the QoS asked for, or refused (MQTT 5: Not authorized and why;
    /// MQTT 3.1.1: Failure).</summary>
    public MqttSubAckPacket Answer(DeviceConnection? connection, MqttSubscribePacket subscribe, bool isMqtt5)
    {
        var user = connection?.User;
        var refused = false;
        var codes = subscribe.TopicFilters.ConvertAll(f =>
        {
            if (user is not null && Topics.MaySubscribe(user, f.Topic))
                return (MqttSubscribeReasonCode)Math.Min((int)f.QualityOfServiceLevel, 2);
            refused = true;
            return isMqtt5 ? MqttSubscribeReasonCode.NotAuthorized : MqttSubscribeReasonCode.UnspecifiedError;
        });
        return new MqttSubAckPacket
        {
            PacketIdentifier = subscribe.PacketIdentifier,
            ReasonCodes = codes,
            ReasonString = refused && isMqtt5 ? $"only u/{user}/# may be subscribed" : null,
        };
    }
}
