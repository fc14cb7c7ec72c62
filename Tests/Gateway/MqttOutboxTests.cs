using System.Buffers;
using System.IO.Pipelines;
using ImOrleans.Gateway.Mqtt;
using ImOrleans.Tests.Infrastructure;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace ImOrleans.Tests.Gateway;

/// <summary>The order and bounds of what one connection is sent (<see cref="MqttOutbox"/>). The whole path, over real
/// connections, is in <see cref="PipelinedSendTests"/> and <see cref="ServerDisconnectTests"/>.</summary>
[TestClass]
public sealed class MqttOutboxTests
{
    private const byte PubAck = 0x40, PingResp = 0xD0, Publish = 0x30, Disconnect = 0xE0;

    [TestMethod]
    public async Task APacketQueuedAfterAHeldPubAckWaitsForIt()
    {
        var (pipe, outbox) = NewOutbox(MqttProtocolVersion.V500, limit: 10);
        var stored = new TaskCompletionSource<MqttPacket>();

        outbox.SendLater(stored.Task);
        outbox.Send(MqttPingRespPacket.Instance);
        await Task.Delay(100);
        Assert.IsFalse(pipe.Reader.TryRead(out _), "nothing goes out before the held PUBACK");

        stored.SetResult(new MqttPubAckPacket { PacketIdentifier = 7, ReasonCode = MqttPubAckReasonCode.QuotaExceeded });
        var types = await PacketTypesAsync(pipe.Reader, 2);
        CollectionAssert.AreEqual(new[] { PubAck, PingResp }, types);
    }

    [TestMethod]
    public async Task PublishesBeyondTheLimitAreRefusedUntilOneIsAcknowledged()
    {
        var (pipe, outbox) = NewOutbox(MqttProtocolVersion.V311, limit: 3);
        var ids = new List<ushort>();
        for (var i = 0; i < 3; i++)
        {
            var publish = NewPublish(MqttQualityOfServiceLevel.AtLeastOnce);
            Assert.IsTrue(outbox.TryPublish(publish, new MqttOutbox.Sent("c1", i + 1, 0)));
            ids.Add(publish.PacketIdentifier);
        }
        Assert.AreEqual(3, ids.Distinct().Count(), "each publish in flight has its own packet identifier");
        Assert.IsFalse(outbox.TryPublish(NewPublish(MqttQualityOfServiceLevel.AtLeastOnce), default), "three are unacknowledged");

        var sent = outbox.Acknowledged(ids[1]);
        Assert.AreEqual(new MqttOutbox.Sent("c1", 2, 0), sent);
        Assert.IsNull(outbox.Acknowledged(ids[1]), "acknowledged once");
        Assert.IsTrue(outbox.TryPublish(NewPublish(MqttQualityOfServiceLevel.AtLeastOnce), default), "one was acknowledged");
        CollectionAssert.AreEqual(new[] { Publish | 0x02, Publish | 0x02, Publish | 0x02, Publish | 0x02 }.Select(b => (byte)b).ToArray(),
            await PacketTypesAsync(pipe.Reader, 4));
    }

    [TestMethod]
    public async Task NoMorePublishesAreUnacknowledgedThanTheClientsReceiveMaximum()
    {
        var (pipe, outbox) = NewOutbox(MqttProtocolVersion.V500, limit: 10, receiveMaximum: 2);
        var publishes = Enumerable.Range(0, 3).Select(_ => NewPublish(MqttQualityOfServiceLevel.AtLeastOnce)).ToList();
        foreach (var p in publishes)
            Assert.IsTrue(outbox.TryPublish(p, default));
        outbox.Send(MqttPingRespPacket.Instance);

        CollectionAssert.AreEqual(new[] { (byte)(Publish | 0x02), (byte)(Publish | 0x02) }, await PacketTypesAsync(pipe.Reader, 2));
        await Task.Delay(100);
        Assert.IsFalse(pipe.Reader.TryRead(out _), "the third waits for an acknowledgement, and what was queued after it too");

        outbox.Acknowledged(publishes[0].PacketIdentifier);
        CollectionAssert.AreEqual(new[] { (byte)(Publish | 0x02), PingResp }, await PacketTypesAsync(pipe.Reader, 2));
    }

    [TestMethod]
    public async Task TheLastPacketGoesOutAfterEverythingQueuedAndNothingAfterIt()
    {
        var (pipe, outbox) = NewOutbox(MqttProtocolVersion.V500, limit: 10);
        var stored = new TaskCompletionSource<MqttPacket>();
        outbox.SendLater(stored.Task);

        var written = outbox.CloseWithAsync(new MqttDisconnectPacket { ReasonCode = MqttDisconnectReasonCode.SessionTakenOver });
        Assert.IsFalse(outbox.TryPublish(NewPublish(MqttQualityOfServiceLevel.AtMostOnce), default), "closing: nothing more is taken");
        Assert.IsFalse(written.IsCompleted, "the held PUBACK is still ahead of it");
        stored.SetResult(new MqttPubAckPacket { PacketIdentifier = 1 });
        await written.WaitAsync(TimeSpan.FromSeconds(5));

        CollectionAssert.AreEqual(new[] { PubAck, Disconnect }, await PacketTypesAsync(pipe.Reader, 2));
    }

    [TestMethod]
    public async Task AnAbandonedOutboxWritesNothingMoreAndEndsItsCloseAtOnce()
    {
        var (pipe, outbox) = NewOutbox(MqttProtocolVersion.V500, limit: 10);
        var stored = new TaskCompletionSource<MqttPacket>();
        outbox.SendLater(stored.Task);
        var written = outbox.CloseWithAsync(null);

        var stopped = outbox.AbandonAsync();
        await written.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.IsFalse(stopped.IsCompleted, "the loop still waits for the held outcome");
        stored.SetResult(new MqttPubAckPacket { PacketIdentifier = 1 });
        await stopped.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.IsFalse(pipe.Reader.TryRead(out _), "the PUBACK of a connection that is over is not written");
    }

    [TestMethod]
    public async Task AHeldMessageFreesItsRoomWhenItsOutcomeIsKnownEvenAFailure()
    {
        var held = new HeldAcks();
        for (var i = 0; i < HeldAcks.MaxHeld; i++)
            await held.WaitForRoomAsync(default);
        var failing = new TaskCompletionSource<AckReply>();
        var reply = held.HoldAsync(failing.Task);
        var waiting = held.WaitForRoomAsync(default);
        Assert.IsFalse(waiting.IsCompleted, "all room is taken");

        failing.SetException(new InvalidOperationException("injected by the test"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => reply);
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [TestMethod]
    public async Task APublishTooLargeForTheClientIsNotWrittenAndCompletesAfterThoseBeforeIt()
    {
        var (pipe, outbox) = NewOutbox(MqttProtocolVersion.V500, limit: 10, maximumPacketSize: 200);
        var skipped = new System.Collections.Concurrent.ConcurrentQueue<MqttOutbox.Sent>();
        outbox.Skipped = skipped.Enqueue;
        var first = NewPublish(MqttQualityOfServiceLevel.AtLeastOnce);
        Assert.IsTrue(outbox.TryPublish(first, new MqttOutbox.Sent("c1", 1, 0)));
        Assert.IsTrue(outbox.TryPublish(NewPublish(MqttQualityOfServiceLevel.AtLeastOnce, 300), new MqttOutbox.Sent("c1", 2, 0)));
        var third = NewPublish(MqttQualityOfServiceLevel.AtLeastOnce);
        Assert.IsTrue(outbox.TryPublish(third, new MqttOutbox.Sent("c1", 3, 0)));
        outbox.Send(MqttPingRespPacket.Instance);

        CollectionAssert.AreEqual(new[] { (byte)(Publish | 0x02), (byte)(Publish | 0x02), PingResp }, await PacketTypesAsync(pipe.Reader, 3),
            "the large publish is not written; what follows it is");
        await Task.Delay(100);
        Assert.IsEmpty(skipped, "not complete while a publish written before it is unacknowledged: a cursor moved past it could skip that one");

        outbox.Acknowledged(first.PacketIdentifier);
        CollectionAssert.AreEqual(new[] { new MqttOutbox.Sent("c1", 2, 0) }, skipped.ToArray(), "complete once those before it are");

        // With nothing unacknowledged before it, it is complete at once.
        outbox.Acknowledged(third.PacketIdentifier);
        Assert.IsTrue(outbox.TryPublish(NewPublish(MqttQualityOfServiceLevel.AtLeastOnce, 300), new MqttOutbox.Sent("c2", 9, 0)));
        await Eventually.TrueAsync(() => skipped.Count == 2, "the second large publish completes");
        Assert.AreEqual(new MqttOutbox.Sent("c2", 9, 0), skipped.Last());
    }

    [TestMethod]
    public async Task ASkippedPublishCompletesEvenWhenTheClientAcknowledgesOutOfOrder()
    {
        var (pipe, outbox) = NewOutbox(MqttProtocolVersion.V500, limit: 10, maximumPacketSize: 200);
        var skipped = new System.Collections.Concurrent.ConcurrentQueue<MqttOutbox.Sent>();
        outbox.Skipped = skipped.Enqueue;
        var (first, second) = (NewPublish(MqttQualityOfServiceLevel.AtLeastOnce), NewPublish(MqttQualityOfServiceLevel.AtLeastOnce));
        Assert.IsTrue(outbox.TryPublish(first, new MqttOutbox.Sent("c1", 1, 0)));
        Assert.IsTrue(outbox.TryPublish(second, new MqttOutbox.Sent("c1", 2, 0)));
        await PacketTypesAsync(pipe.Reader, 2);

        outbox.Acknowledged(second.PacketIdentifier); // out of order: the first is still unacknowledged
        Assert.IsTrue(outbox.TryPublish(NewPublish(MqttQualityOfServiceLevel.AtLeastOnce, 300), new MqttOutbox.Sent("c1", 3, 0)));
        outbox.Send(MqttPingRespPacket.Instance);
        await PacketTypesAsync(pipe.Reader, 1); // the PINGRESP: the large publish was passed over
        Assert.IsEmpty(skipped, "the first is still unacknowledged");

        outbox.Acknowledged(first.PacketIdentifier);
        CollectionAssert.AreEqual(new[] { new MqttOutbox.Sent("c1", 3, 0) }, skipped.ToArray(), "nothing before it awaits an acknowledgement");
    }

    [TestMethod]
    public async Task AnAnswerTooLargeForTheClientGoesWithoutItsReasonString()
    {
        var (pipe, outbox) = NewOutbox(MqttProtocolVersion.V500, limit: 10, maximumPacketSize: 64);
        outbox.Send(new MqttPubAckPacket
        {
            PacketIdentifier = 3,
            ReasonCode = MqttPubAckReasonCode.QuotaExceeded,
            ReasonString = new string('r', 100),
        });

        var read = await pipe.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        var bytes = read.Buffer.ToArray();
        Assert.AreEqual(PubAck, bytes[0], "the PUBACK itself is not dropped: the client waits for it");
        Assert.IsLessThanOrEqualTo(64, bytes.Length);
        Assert.AreEqual((byte)MqttPubAckReasonCode.QuotaExceeded, bytes[4], "its reason code stays");
    }

    private static (Pipe Pipe, MqttOutbox Outbox) NewOutbox(MqttProtocolVersion version, int limit, int receiveMaximum = ushort.MaxValue,
        uint maximumPacketSize = uint.MaxValue)
    {
        var pipe = new Pipe();
        return (pipe, new MqttOutbox(pipe.Writer, version, limit, broken: () => { }, receiveMaximum, maximumPacketSize));
    }

    private static MqttPublishPacket NewPublish(MqttQualityOfServiceLevel qos, int payloadBytes = 2) => new()
    {
        Topic = "u/alice/m",
        PayloadSegment = Enumerable.Repeat((byte)'x', payloadBytes).ToArray(),
        QualityOfServiceLevel = qos,
    };

    /// <summary>The first byte of each of the next <paramref name="count"/> packets written.</summary>
    private static async Task<byte[]> PacketTypesAsync(PipeReader reader, int count)
    {
        var types = new List<byte>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (types.Count < count)
        {
            var read = await reader.ReadAsync(timeout.Token);
            var bytes = read.Buffer.ToArray();
            var consumed = 0;
            while (types.Count < count && WholePacketAt(bytes, consumed) is { } end)
            {
                types.Add(bytes[consumed]);
                consumed = end;
            }
            reader.AdvanceTo(read.Buffer.GetPosition(consumed), read.Buffer.End);
        }
        return [.. types];
    }

    // Where the packet starting at start ends, if all of it is there.
    private static int? WholePacketAt(byte[] bytes, int start)
    {
        int length = 0, shift = 0, i = start + 1;
        while (i < bytes.Length)
        {
            var digit = bytes[i++];
            length |= (digit & 0x7F) << shift;
            shift += 7;
            if ((digit & 0x80) == 0)
                return i + length <= bytes.Length ? i + length : null;
        }
        return null;
    }
}
