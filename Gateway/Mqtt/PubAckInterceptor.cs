using MQTTnet.Packets;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>Notes which publish MQTTnet is handling, and holds each PUBACK that <see cref="HeldAcks"/> keeps until the
/// message it acknowledges is stored, filling in its reason code and the message's seq.</summary>
public static class PubAckInterceptor
{
    public static Task InboundAsync(InterceptingPacketEventArgs e)
    {
        if (e.Packet is MqttPublishPacket { QualityOfServiceLevel: MqttQualityOfServiceLevel.AtLeastOnce } publish
            && e.SessionItems[MqttSessionEvents.ConnectionKey] is DeviceConnection connection)
            connection.IncomingPacketId = publish.PacketIdentifier;
        return Task.CompletedTask;
    }

    public static Task OutboundAsync(InterceptingPacketEventArgs e) =>
        e.Packet is MqttPubAckPacket ack && e.SessionItems[MqttSessionEvents.ConnectionKey] is DeviceConnection { HeldAcks: { } acks }
            && acks.Take(ack.PacketIdentifier) is { } reply
            ? FillAsync(ack, reply)
            : Task.CompletedTask;

    // MQTTnet's send loop waits here: later packets of this connection (deliveries too) go out after this PUBACK.
    private static async Task FillAsync(MqttPubAckPacket ack, Task<AckReply> pending)
    {
        AckReply reply;
        try
        {
            reply = await pending;
        }
        catch (Exception)
        {
            // Never lose the PUBACK itself: a client waits for it before it reuses the packet identifier.
            reply = new AckReply(MqttPubAckReasonCode.UnspecifiedError, "the service could not take this message; retry with the same id");
        }
        ack.ReasonCode = reply.Code;
        ack.ReasonString = reply.Reason;
        ack.UserProperties = reply.Properties;
    }
}
