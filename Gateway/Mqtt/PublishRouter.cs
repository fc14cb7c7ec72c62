using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;
using ImOrleans.Gateway.Attachments;
using ImOrleans.Gateway.Hosting;
using ImOrleans.Models;
using Microsoft.Extensions.Options;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>Every client publish: checked, then turned into a grain call. Nothing is routed broker-style.
/// A message is acknowledged only once it is durable: a plain QoS 1 message goes into the connection's
/// <see cref="SendLanes"/> and its PUBACK waits in the connection's outbox until it is stored (<see cref="HeldAcks"/>),
/// so the client's next publishes are read meanwhile; any other publish first waits for those, then is handled before
/// the next is read.</summary>
public sealed class PublishRouter(IGrainFactory grains, DeviceConnections connections, RpcHandler rpc, IdempotentCalls idempotent,
    IAttachmentStore attachmentStore, IOptions<GatewayOptions> options, ILogger<PublishRouter> log)
{
    /// <summary>Handles one publish. Returns once the connection's next publish may be read; the result is what its
    /// PUBACK (or PUBREC) says, which for a message on its way to storage is not known yet. Never fails.</summary>
    public async Task<Task<AckReply>> HandleAsync(DeviceConnection? connection, MqttPublishPacket message, CancellationToken ct)
    {
        if (connection is null)
            return Task.FromResult(new AckReply(MqttPubAckReasonCode.NotAuthorized));

        using var activity = TelemetryExtensions.Source.StartActivity("mqtt publish", System.Diagnostics.ActivityKind.Server);
        var kind = KindOf(message.Topic);
        activity?.SetTag("mqtt.topic.kind", kind);
        string? reference = null;
        try
        {
            if (message.Payload.Length > options.Value.MaxPayloadBytes)
                throw new ImException(ErrorCodes.LimitExceeded, $"payload is limited to {options.Value.MaxPayloadBytes} bytes");
            RequireUtf8(message.Payload);
            // A plain message is read without a JSON tree; any other payload is parsed as one.
            var laneConversation = LaneConversation(message);
            if (laneConversation is not null && PlainMessageReader.TryRead(message.Payload, out var plainId, out var plainEntry))
            {
                reference = plainId;
                Admit(connection);
                return await SendLaterAsync(connection, RequireConversation(laneConversation), new NewMessage(plainId, plainEntry), reference, ct);
            }
            var payload = Parse(message.Payload);
            reference = ReferenceOf(payload);
            Admit(connection);
            if (laneConversation is not null && PlainMessage(laneConversation, payload) is var (conv, id, entry))
                return await SendLaterAsync(connection, conv, new NewMessage(id, entry), reference, ct);
            if (connection.Lanes is { } lanes)
                await lanes.DrainAsync(); // what it sent before is stored before this is handled
            var reply = await RouteAsync(connection, message.Topic, payload, message.ResponseTopic, message.CorrelationData, ct);
            GatewayMetrics.Publishes.Add(1, GatewayMetrics.Tag("kind", kind));
            return Task.FromResult(reply);
        }
        catch (ImException ex)
        {
            return Task.FromResult(Refuse(connection, reference, ex.Code, ex.Message));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The connection is closing while this publish waited (say, for room among its held PUBACKs): nobody to answer.
            return Task.FromResult(new AckReply(MqttPubAckReasonCode.UnspecifiedError));
        }
        catch (Exception ex)
        {
            log.LogWarning(ex, "Publish of {ClientId} to {Topic} failed", connection.ClientId, message.Topic);
            return Task.FromResult(Refuse(connection, reference, ErrorCodes.Unavailable, "the service could not take this message; retry with the same id"));
        }
    }

    /// <summary>Takes a publish from the connection's rate limit, or refuses it.</summary>
    private void Admit(DeviceConnection connection)
    {
        connection.Limiter.TryReplenish(); // adds what the time since the last publish earned (no timer)
        using var lease = connection.Limiter.AttemptAcquire();
        if (!lease.IsAcquired)
            throw new ImException(ErrorCodes.RateLimited, $"more than {options.Value.RatePerSecond} publishes per second");
    }

    /// <summary>The conversation of a publish that may go into a lane: a QoS 1 publish on <c>c/{conv}/m</c>.</summary>
    private static string? LaneConversation(MqttPublishPacket message) =>
        message.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtLeastOnce ? Topics.ConversationOfMessage(message.Topic) : null;

    /// <summary>A lane's payload that <see cref="PlainMessageReader"/> declined: a message with no kind and no attachments
    /// still goes into the lane (or is refused with the reason); anything else is routed.</summary>
    private static (string Conv, string Id, EntryRequest Entry)? PlainMessage(string conv, JsonObject payload) =>
        payload["kind"] is null && payload["attachments"] is null
            ? (RequireConversation(conv), RequireString(payload, "id"), Entry(payload))
            : null;

    /// <summary>Queues a message in its conversation's lane; the PUBACK's reply once its outcome is known.</summary>
    private async Task<Task<AckReply>> SendLaterAsync(DeviceConnection c, string conv, NewMessage message, string? reference, CancellationToken ct)
    {
        c.HeldAcks ??= new HeldAcks();
        c.Lanes ??= new SendLanes((conversation, messages) => idempotent.InvokeAsync("PostMany",
            call => grains.Ref<IConversationGrain>(conversation).PostManyAsync(c.User, c.Device, messages, call), c.Session.Reading));
        await c.HeldAcks.WaitForRoomAsync(ct);
        return c.HeldAcks.HoldAsync(ReplyAsync(c, c.Lanes.SendAsync(conv, message), reference));
    }

    private async Task<AckReply> ReplyAsync(DeviceConnection c, Task<PostOutcome> pending, string? reference)
    {
        PostOutcome outcome;
        try
        {
            outcome = await pending;
        }
        catch (Exception ex)
        {
            log.LogWarning(ex, "Messages of {ClientId} could not be stored", c.ClientId);
            outcome = new PostOutcome(null, ErrorCodes.Unavailable, "the service could not take this message; retry with the same id");
        }
        if (outcome.Result is not { } result)
            return Refuse(c, reference, outcome.ErrorCode ?? ErrorCodes.Unavailable, outcome.Error ?? "");
        GatewayMetrics.Publishes.Add(1, GatewayMetrics.Tag("kind", "message"));
        return Stored(c, result);
    }

    /// <summary>The PUBACK of a stored message. MQTT 5 PUBACKs carry its seq and time; only 3.1.1 clients need a "sent"
    /// event (another publish to ack).</summary>
    private AckReply Stored(DeviceConnection c, SendResult result)
    {
        if (!c.IsMqtt5)
            connections.Send(c, Topics.Events(c.User), Wire.Sent(result.Message));
        return new AckReply(MqttPubAckReasonCode.Success,
            Properties: [Property("seq", result.Message.Seq), Property("ts", result.Message.Timestamp.ToUnixTimeMilliseconds())]);
    }

    /// <summary>Handles a publish that is not a plain message; what its PUBACK says.</summary>
    private async Task<AckReply> RouteAsync(DeviceConnection c, string topic, JsonObject payload, string? responseTopic, byte[]? correlation,
        CancellationToken ct)
    {
        var parts = topic.Split('/');
        switch (parts)
        {
            case ["c", var conv, "m"]:
                var (grain, id, entry) = (Conversation(conv), RequireString(payload, "id"), Entry(payload));
                if (await AttachmentsAsync(c, conv, payload, ct) is { } attachments)
                    entry = entry.Kind is null ? entry with { Attachments = attachments } : throw WireErrors.BadPayload("only a message carries attachments");
                // The call a client waits on, and repeating it is safe (same id): deadlines and retries, not 30 s.
                var result = await idempotent.InvokeAsync("Send", call => grain.PostAsync(c.User, c.Device, id, entry, call), ct);
                return Stored(c, result);
            case ["c", var conv, "r"]:
                var (read, seq) = (Conversation(conv), RequireLong(payload, "seq"));
                await idempotent.InvokeAsync("MarkRead", call => read.MarkReadAsync(c.User, c.Device, seq, call), ct);
                break;
            case ["c", var conv, "t"]:
                // A repeated typing notice or presence change does no harm either, and these must not hold up the
                // connection's later publishes for Orleans' 30 s either.
                var typing = Conversation(conv);
                await idempotent.InvokeAsync("Typing", _ => typing.TypingAsync(c.User, c.Device), ct);
                break;
            case ["p"]:
                var (user, status, text) = (grains.Ref<IUserGrain>(c.User), RequireString(payload, "status"), OptionalString(payload, "text"));
                await idempotent.InvokeAsync("SetPresence", _ => user.SetPresenceAsync(status, text), ct);
                break;
            case ["rpc", var method]:
                await rpc.HandleAsync(c, method, payload, responseTopic, correlation);
                break;
            default:
                throw new ImException(WireErrors.BadTopic, $"cannot publish to '{topic}'");
        }
        return new AckReply(MqttPubAckReasonCode.Success);
    }

    /// <summary>The descriptors of the attachments a message names (<c>"attachments": [id, …]</c>), each uploaded by the
    /// sender, linked to the conversation first so that the members may download them as soon as the message reaches
    /// them. A link made for a send that then fails gives nobody anything: downloading still needs membership.</summary>
    private async Task<IReadOnlyList<AttachmentInfo>?> AttachmentsAsync(DeviceConnection c, string conv, JsonObject payload, CancellationToken ct)
    {
        if (payload["attachments"] is null)
            return null;
        if (payload["attachments"] is not JsonArray ids || ids.Any(i => i is not JsonValue v || !v.TryGetValue<string>(out _)))
            throw WireErrors.BadPayload("'attachments' must be an array of attachment ids");
        // Each id costs a store read: far more than any message may carry (Limits:MaxAttachmentsPerMessage) is refused unread.
        if (ids.Count > 100)
            throw new ImException(ErrorCodes.LimitExceeded, "too many attachments in one message");
        var list = new List<AttachmentInfo>();
        foreach (var id in ids.Select(i => i!.GetValue<string>()).Distinct())
        {
            // Someone else's id (or one that does not exist) is refused alike: it must not tell which ids exist.
            if (!AttachmentIds.IsValid(id) || await attachmentStore.GetAsync(id, ct) is not { } stored || stored.Uploader != c.User)
                throw new ImException(ErrorCodes.Forbidden, $"attachment '{id}' is not one you uploaded");
            list.Add(stored.Info);
        }
        foreach (var a in list)
            await attachmentStore.LinkAsync(a.Id, conv, ct);
        return list.Count > 0 ? list : null;
    }

    /// <summary>A publish on <c>c/{conv}/m</c>: a message, or another entry of the log (docs/protocol.md §16).</summary>
    private static EntryRequest Entry(JsonObject p) => OptionalString(p, "kind") switch
    {
        null or "message" => EntryRequest.Message(RequireString(p, "body"), OptionalLong(p, "replyTo"), OptionalStrings(p, "mentions")),
        EntryKinds.Edit => new(EntryKinds.Edit, RequireString(p, "body"), RequireLong(p, "target"), Mentions: OptionalStrings(p, "mentions")),
        EntryKinds.Delete => EntryRequest.Delete(RequireLong(p, "target")),
        EntryKinds.React => new(EntryKinds.React, RequireString(p, "emoji"), RequireLong(p, "target")),
        EntryKinds.Unreact => new(EntryKinds.Unreact, RequireString(p, "emoji"), RequireLong(p, "target")),
        _ => throw WireErrors.BadPayload("'kind' must be message, edit, delete, react or unreact"),
    };

    /// <summary>The kind of a publish, as metrics tag it.</summary>
    private static string KindOf(string topic) => topic switch
    {
        _ when topic.StartsWith("rpc/", StringComparison.Ordinal) => "rpc",
        _ when topic.EndsWith("/m", StringComparison.Ordinal) => "message",
        _ when topic.EndsWith("/r", StringComparison.Ordinal) => "read",
        _ when topic.EndsWith("/t", StringComparison.Ordinal) => "typing",
        _ => "presence",
    };

    private static MqttUserProperty Property(string name, long value) =>
        new(name, System.Text.Encoding.UTF8.GetBytes(value.ToString(System.Globalization.CultureInfo.InvariantCulture)).AsMemory());

    private IConversationGrain Conversation(string id) => grains.Ref<IConversationGrain>(RequireConversation(id));

    private static string RequireConversation(string id) =>
        Ids.IsValidConversation(id) ? id : throw new ImException(ErrorCodes.NotFound, $"no conversation '{id}'");

    /// <summary>Tells the client why a publish was refused (an <c>error</c> event) and returns what its PUBACK says.</summary>
    private AckReply Refuse(DeviceConnection c, string? reference, string code, string message)
    {
        GatewayMetrics.PublishesRefused.Add(1, GatewayMetrics.Tag("code", code));
        connections.Send(c, Topics.Events(c.User), Wire.Error(reference, code, message));
        return new AckReply(ReasonCodes.For(code), message);
    }

    /// <summary>What an error event names: the client message id of a send, or the rid of an RPC.</summary>
    private static string? ReferenceOf(JsonObject payload) =>
        (payload["id"] ?? payload["rid"]) is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    // A field named twice, at any depth, is invalid JSON here. Parsed leniently, the tree threw at its first lookup
    // instead, and that came out as an unexpected failure: "unavailable, retry", and a warning logged for each publish.
    private static readonly JsonDocumentOptions NoDuplicateFields = new() { AllowDuplicateProperties = false };

    private static JsonObject Parse(ReadOnlySequence<byte> payload)
    {
        if (payload.IsEmpty)
            return [];
        ReadOnlySpan<byte> bytes = payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray();
        JsonObject? parsed;
        try
        {
            parsed = JsonNode.Parse(bytes, documentOptions: NoDuplicateFields) as JsonObject;
        }
        catch (JsonException)
        {
            throw WireErrors.BadPayload("the payload is not valid JSON");
        }
        catch (InvalidOperationException) // checking for duplicates decodes field names, and one was half a character
        {
            throw LoneSurrogate();
        }
        if (parsed is null)
            throw WireErrors.BadPayload("the payload must be a JSON object");
        RefuseLoneSurrogates(bytes);
        return parsed;
    }

    /// <summary>JSON's syntax allows an escape of half a UTF-16 surrogate pair (<c>"\ud800"</c>), which is no
    /// character; the tree only finds out when the field is read, and threw then, which came out as "unavailable,
    /// retry" and a warning logged for each such publish. Checked here, where the payload is known to be valid JSON
    /// otherwise; only escaped strings are decoded.</summary>
    private static void RefuseLoneSurrogates(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
                    _ = reader.GetString();
            }
        }
        catch (InvalidOperationException)
        {
            throw LoneSurrogate();
        }
    }

    /// <summary>JSON is UTF-8 text, but the parsers only find bytes that are not UTF-8 inside a string when it is read,
    /// and that came out as "unavailable, retry" and a warning logged for each such publish. Checked for the whole
    /// payload at once (a vectorized scan), so a field that is ignored cannot carry them either.</summary>
    private static void RequireUtf8(ReadOnlySequence<byte> payload)
    {
        var valid = payload.IsSingleSegment ? Utf8.IsValid(payload.FirstSpan) : Utf8.IsValid(payload.ToArray());
        if (!valid)
            throw WireErrors.BadPayload("the payload is not UTF-8 text");
    }

    private static ImException LoneSurrogate() =>
        WireErrors.BadPayload("the payload holds an escape that is half a UTF-16 surrogate pair, which is no character");

    internal static string RequireString(JsonObject o, string name) =>
        o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw WireErrors.BadPayload($"'{name}' must be a string");

    internal static string? OptionalString(JsonObject o, string name) =>
        o[name] is null ? null : RequireString(o, name);

    internal static long? OptionalLong(JsonObject o, string name) => o[name] is null ? null : RequireLong(o, name);

    internal const int MaxListItems = 100;

    /// <summary>An optional array of at most 100 strings (user ids).</summary>
    internal static List<string>? OptionalStrings(JsonObject o, string name)
    {
        if (o[name] is null)
            return null;
        if (o[name] is not JsonArray array || array.Count > MaxListItems)
            throw WireErrors.BadPayload($"'{name}' must be an array of at most {MaxListItems} strings");
        return array.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw WireErrors.BadPayload($"'{name}' must hold strings")).ToList();
    }

    internal static long RequireLong(JsonObject o, string name) =>
        o[name] is JsonValue v && v.TryGetValue<long>(out var n) ? n : throw WireErrors.BadPayload($"'{name}' must be an integer");
}
