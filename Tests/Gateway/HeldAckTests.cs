using System.Collections;
using System.Threading.RateLimiting;
using ImOrleans.Gateway.Mqtt;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet.Packets;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace ImOrleans.Tests.Gateway;

/// <summary>How <see cref="PubAckInterceptor"/> fills a held PUBACK as MQTTnet sends it. The whole path, over real
/// connections, is in <see cref="PipelinedSendTests"/>.</summary>
[TestClass]
public sealed class HeldAckTests
{
    [TestMethod]
    public async Task AHeldPubAckGoesOutWithItsMessagesOutcome()
    {
        var (connection, items) = Connection();
        await connection.HeldAcks!.WaitForRoomAsync(default);
        var outcome = new TaskCompletionSource<AckReply>();
        connection.HeldAcks.Hold(7, outcome.Task);
        var ack = new MqttPubAckPacket { PacketIdentifier = 7 };

        var sending = PubAckInterceptor.OutboundAsync(Args(ack, items));
        Assert.IsFalse(sending.IsCompleted, "the PUBACK waits for its message to be stored");
        outcome.SetResult(new AckReply(MqttPubAckReasonCode.QuotaExceeded, "too long"));
        await sending;

        Assert.AreEqual(MqttPubAckReasonCode.QuotaExceeded, ack.ReasonCode);
        Assert.AreEqual("too long", ack.ReasonString);
        Assert.IsNull(connection.HeldAcks.Take(7), "it is no longer held");
    }

    [TestMethod]
    public async Task AHeldPubAckWhoseOutcomeFailedStillGoesOut()
    {
        var (connection, items) = Connection();
        await connection.HeldAcks!.WaitForRoomAsync(default);
        connection.HeldAcks.Hold(9, Task.FromException<AckReply>(new InvalidOperationException("injected by the test")));
        var ack = new MqttPubAckPacket { PacketIdentifier = 9 };

        await PubAckInterceptor.OutboundAsync(Args(ack, items));

        Assert.AreEqual(MqttPubAckReasonCode.UnspecifiedError, ack.ReasonCode, "refused, not lost: the client waits for it");
    }

    [TestMethod]
    public async Task APubAckThatIsNotHeldGoesOutAsItIs()
    {
        var (_, items) = Connection();
        var ack = new MqttPubAckPacket { PacketIdentifier = 3, ReasonCode = MqttPubAckReasonCode.Success };

        var sending = PubAckInterceptor.OutboundAsync(Args(ack, items));

        Assert.IsTrue(sending.IsCompleted);
        await sending;
        Assert.AreEqual(MqttPubAckReasonCode.Success, ack.ReasonCode);
    }

    private static (DeviceConnection Connection, Hashtable Items) Connection()
    {
        var limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = 1, TokensPerPeriod = 1, ReplenishmentPeriod = TimeSpan.FromSeconds(1), AutoReplenishment = false,
        });
        var connection = new DeviceConnection("alice", "phone", "c1", limiter, isMqtt5: true, grain: null!, window: 10,
            (_, _) => true, NullLogger.Instance) { HeldAcks = new HeldAcks() };
        return (connection, new Hashtable { [MqttSessionEvents.ConnectionKey] = connection });
    }

    private static InterceptingPacketEventArgs Args(MqttPacket packet, IDictionary items) =>
        new("alice/phone", "alice", null!, packet, items, CancellationToken.None);
}
