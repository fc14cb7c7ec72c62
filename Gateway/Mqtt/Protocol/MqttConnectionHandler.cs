using System.Text;
using ImOrleans.Gateway.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Options;
using MQTTnet.Adapter;
using MQTTnet.Exceptions;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>The gateway's MQTT protocol layer on one connection, on any transport (TCP, TLS, WebSocket): the CONNECT
/// and its CONNACK, then each packet in the order it arrives, until either side ends it. MQTTnet's formatters decode and
/// encode the packets (<see cref="MqttPacketCodec"/>); what they mean is decided here and in the classes this calls, so
/// that a connection holds only what a chat device needs (no broker session, no subscription tree, no retained
/// messages).</summary>
public sealed class MqttConnectionHandler(MqttAuthenticator authenticator, MqttSessionEvents events, PublishRouter router,
    SubscriptionGuard subscriptions, MqttSessions sessions, IOptions<GatewayOptions> options,
    ILogger<MqttConnectionHandler> log)
{
    private readonly GatewayOptions _options = options.Value;

    /// <summary>Runs the connection until either side ends it, then closes it (<see cref="LingeringClose"/>).
    /// <paramref name="connectArrived"/> is called once its first packet is in, or at the end if none came.</summary>
    public async Task RunAsync(ConnectionContext connection, string transport, Action connectArrived)
    {
        // Over WebSocket, what is written goes out as binary messages (text is the connection framework's default).
        if (connection.Features.Get<ITransferFormatFeature>() is { } format)
            format.ActiveFormat = TransferFormat.Binary;
        var input = connection.Transport.Input;
        var reader = new MqttPacketReader(input, _options.MaxPacketBytes);
        MqttSession? session = null;
        try
        {
            // One packet at a time: the next waits unread (and its sender with it) until this one is handled. The first
            // is the CONNECT.
            while (true)
            {
                var result = await input.ReadAsync(session?.Reading ?? default);
                if (reader.Take(result) is not { } received)
                {
                    if (result.IsCompleted || result.IsCanceled)
                        return;
                    continue;
                }
                if (session is null)
                {
                    connectArrived();
                    session = await AcceptAsync(connection, transport, received);
                    if (session is null)
                        return;
                    continue;
                }
                session.Heard(handling: true);
                var goOn = await HandleAsync(session, MqttPacketCodec.Decode(received, session.Version));
                session.Heard(handling: false);
                if (!goOn)
                    return;
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or MqttProtocolViolationException)
        {
            // A malformed packet: MQTT's answer is to close the connection. (The reader counts what its header gives away.)
            if (ex is not InvalidDataException)
                GatewayMetrics.Refusals.Add(1, GatewayMetrics.Tag("reason", "malformed"));
            log.LogDebug("Closing {Remote}: {Reason}", connection.RemoteEndPoint, ex.Message);
        }
        catch (Exception ex) when (ex is ConnectionResetException or ConnectionAbortedException or OperationCanceledException or IOException)
        {
            // The client went away, or the connection was cut (keep-alive, a client that does not read).
        }
        finally
        {
            connectArrived();
            try
            {
                if (session is not null)
                    await EndAsync(session);
            }
            finally
            {
                await LingeringClose.CloseAsync(connection);
            }
        }
    }

    /// <summary>Reads the CONNECT, answers it, and binds the device; null when it was refused.</summary>
    private async Task<MqttSession?> AcceptAsync(ConnectionContext connection, string transport, ReceivedMqttPacket first)
    {
        var (version, connect) = MqttPacketCodec.DecodeConnect(first);
        var verdict = await authenticator.ValidateAsync(connect.ClientId, connect.Username,
            connect.Password is null ? null : Encoding.UTF8.GetString(connect.Password), version, connection.RemoteEndPoint);
        if (verdict.Code != MqttConnectReasonCode.Success)
        {
            var output = connection.Transport.Output;
            // MQTT 5: the reason string goes only if the client's Maximum Packet Size leaves room for it.
            var max = connect.MaximumPacketSize == 0 ? uint.MaxValue : connect.MaximumPacketSize;
            if (!MqttPacketCodec.TryWrite(output, ConnAck(version, verdict.Code, verdict.Reason), version, max))
                MqttPacketCodec.TryWrite(output, ConnAck(version, verdict.Code, null), version);
            using var linger = new CancellationTokenSource(LingeringClose.Linger);
            await output.FlushAsync(linger.Token);
            return null;
        }

        var v5 = version == MqttProtocolVersion.V500;
        var session = new MqttSession(connection, connect.ClientId, version, connect.KeepAlivePeriod, transport,
            _options.MaxInFlightPerDevice * 2 + 100, v5 ? connect.ReceiveMaximum : (ushort)0, v5 ? connect.MaximumPacketSize : 0);
        // A message too large for the client is skipped as if it had acknowledged it: its cursor moves past it, rather
        // than the message coming back (and being skipped again) on every reconnect.
        if (v5 && connect.MaximumPacketSize > 0)
            session.Outbox.Skipped = sent => events.Skipped(session.Connection, sent);
        // Queued before the session can be found (by a drain, say): whatever it is told later comes after its CONNACK.
        session.Outbox.Send(ConnAck(version, MqttConnectReasonCode.Success, null));
        sessions.Add(session);
        // Binding it also ends an older connection of the same device here (MQTT's takeover; on another gateway the
        // device grain ends it).
        await events.ConnectedAsync(session);
        return session;
    }

    private static MqttConnAckPacket ConnAck(MqttProtocolVersion version, MqttConnectReasonCode code, string? reason) => new()
    {
        ReasonCode = code,
        ReturnCode = MqttConnectReasonCodeConverter.ToConnectReturnCode(code),
        ReasonString = version == MqttProtocolVersion.V500 ? reason : null,
        // Retained messages are not kept, but a publish marked retained is taken like any other (docs/protocol.md §4).
        RetainAvailable = true,
        WildcardSubscriptionAvailable = true,
        MaximumQoS = MqttQualityOfServiceLevel.ExactlyOnce,
    };

    /// <summary>Handles one packet from the client; false when the connection is to end.</summary>
    private async Task<bool> HandleAsync(MqttSession session, MqttPacket packet)
    {
        var connection = session.Connection;
        switch (packet)
        {
            case MqttPublishPacket publish:
                await PublishAsync(session, connection, publish);
                return true;
            case MqttPubAckPacket ack:
                events.Acknowledged(connection, session.Outbox.Acknowledged(ack.PacketIdentifier));
                return true;
            case MqttPubRelPacket release:
                session.Outbox.Send(new MqttPubCompPacket { PacketIdentifier = release.PacketIdentifier });
                return true;
            case MqttSubscribePacket subscribe:
                session.Outbox.Send(subscriptions.Answer(connection, subscribe, session.IsMqtt5));
                return true;
            case MqttUnsubscribePacket unsubscribe:
                session.Outbox.Send(new MqttUnsubAckPacket
                {
                    PacketIdentifier = unsubscribe.PacketIdentifier,
                    ReasonCodes = unsubscribe.TopicFilters.ConvertAll(_ => MqttUnsubscribeReasonCode.Success),
                });
                return true;
            case MqttPingReqPacket:
                session.Outbox.Send(MqttPingRespPacket.Instance);
                return true;
            case MqttDisconnectPacket:
                session.SaidGoodbye = true;
                return false;
            default:
                // A second CONNECT, an AUTH (no extended authentication here), or a packet only a server sends.
                log.LogDebug("Closing {ClientId}: unexpected {Packet}", session.ClientId, packet.GetRfcName());
                return false;
        }
    }

    private async Task PublishAsync(MqttSession session, DeviceConnection? connection, MqttPublishPacket publish)
    {
        var reply = await router.HandleAsync(connection, publish, session.Reading);
        if (publish.QualityOfServiceLevel != MqttQualityOfServiceLevel.AtMostOnce)
            session.Outbox.SendLater(AnswerAsync(publish, reply));
    }

    /// <summary>A QoS 1 publish's PUBACK, or a QoS 2 publish's PUBREC, once its outcome is known (the codes are the same).</summary>
    private async Task<MqttPacket> AnswerAsync(MqttPublishPacket publish, Task<AckReply> pending)
    {
        AckReply reply;
        try
        {
            reply = await pending;
        }
        catch (Exception ex)
        {
            // The router answers its own failures, so this is a bug; still, never lose the acknowledgement itself: a
            // client waits for it before it reuses the packet identifier.
            log.LogError(ex, "The outcome of a publish to {Topic} failed unanswered", publish.Topic);
            reply = new AckReply(MqttPubAckReasonCode.UnspecifiedError, "the service could not take this message; retry with the same id");
        }
        return publish.QualityOfServiceLevel == MqttQualityOfServiceLevel.ExactlyOnce
            ? new MqttPubRecPacket { PacketIdentifier = publish.PacketIdentifier, ReasonCode = (MqttPubRecReasonCode)reply.Code, ReasonString = reply.Reason, UserProperties = reply.Properties }
            : new MqttPubAckPacket { PacketIdentifier = publish.PacketIdentifier, ReasonCode = reply.Code, ReasonString = reply.Reason, UserProperties = reply.Properties };
    }

    private async Task EndAsync(MqttSession session)
    {
        sessions.Remove(session);
        // Bounded: the loop may be waiting for a held PUBACK's outcome, and writes nothing after it anyway.
        await Task.WhenAny(session.Outbox.AbandonAsync(), Task.Delay(LingeringClose.Linger));
        try
        {
            await events.DisconnectedAsync(session);
        }
        finally
        {
            session.MarkEnded();
        }
    }
}
