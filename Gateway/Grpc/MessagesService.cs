using Grpc.Core;
using ImOrleans.Gateway.Grpc.V1;
using ImOrleans.Gateway.Hosting;

namespace ImOrleans.Gateway.Grpc;

/// <summary><c>im.v1.Messages</c>: sends go through <see cref="IConversationGrain.SendAsync"/> exactly like an MQTT
/// publish, so ordering, durability, idempotency and fan-out are the same.</summary>
public sealed class MessagesService(IGrainFactory grains, IdempotentCalls idempotent) : Messages.MessagesBase
{
    private const int DefaultPage = 50;
    private const int MaxPage = 200;

    public override async Task<SendMessageResponse> SendMessage(SendMessageRequest request, ServerCallContext context)
    {
        var conversation = Require.Conversation(request.Conversation);
        var from = Require.ActingUser(request.FromUser, "from_user");
        if (request.Device.Length > 0)
        {
            if (from == Ids.SystemUser)
                throw Require.Invalid("device", "must be empty when the system sends");
            Require.Device(request.Device);
        }
        // The grain checks length and emptiness of the id; an empty one here means "not retried, make one up".
        var clientId = request.ClientMessageId.Length > 0 ? request.ClientMessageId : Guid.NewGuid().ToString("N");
        await Accounts.RequireEnabledAsync(grains, from);

        var grain = grains.Ref<IConversationGrain>(conversation);
        var entry = Models.EntryRequest.Message(request.Body, request.ReplyTo > 0 ? request.ReplyTo : null,
            request.Mentions.Count > 0 ? request.Mentions.ToList() : null);
        var result = await idempotent.InvokeAsync("Send", ct => grain.PostAsync(from, request.Device, clientId, entry, ct), context.CancellationToken);
        return new SendMessageResponse { Message = result.Message.ToProto(), Duplicate = result.Duplicate };
    }

    public override async Task<SendMessageResponse> DeleteMessage(DeleteMessageRequest request, ServerCallContext context)
    {
        var conversation = Require.Conversation(request.Conversation);
        var by = Require.ActingUser(request.AsUser);
        if (request.Seq < 1)
            throw Require.Invalid("seq", "must be a message seq (1 or more)");
        var clientId = request.ClientMessageId.Length > 0 ? request.ClientMessageId : Guid.NewGuid().ToString("N");
        await Accounts.RequireEnabledAsync(grains, by);

        var grain = grains.Ref<IConversationGrain>(conversation);
        var result = await idempotent.InvokeAsync("Send",
            ct => grain.PostAsync(by, "", clientId, Models.EntryRequest.Delete(request.Seq), ct), context.CancellationToken);
        return new SendMessageResponse { Message = result.Message.ToProto(), Duplicate = result.Duplicate };
    }

    public override async Task<GetHistoryResponse> SearchMessages(SearchMessagesRequest request, ServerCallContext context)
    {
        var conversation = Require.Conversation(request.Conversation);
        var by = Require.ActingUser(request.AsUser);
        if (request.Limit < 0)
            throw Require.Invalid("limit", "must be 1-100 (0 means 20)");
        await Accounts.RequireEnabledAsync(grains, by);

        var found = await grains.Ref<IConversationGrain>(conversation)
            .SearchAsync(by, request.Query, request.HasBefore ? request.Before : null, request.Limit == 0 ? 20 : request.Limit);
        var response = new GetHistoryResponse();
        response.Messages.AddRange(found.Select(m => m.ToProto()));
        return response;
    }

    public override async Task<GetHistoryResponse> GetHistory(GetHistoryRequest request, ServerCallContext context)
    {
        var conversation = Require.Conversation(request.Conversation);
        var by = Require.ActingUser(request.AsUser);
        if (request.HasBefore && request.HasAfter)
            throw Require.Invalid("before", "and after cannot both be given");
        if (request.Limit < 0)
            throw Require.Invalid("limit", $"must be 1-{MaxPage} (0 means {DefaultPage})");
        var limit = request.Limit == 0 ? DefaultPage : Math.Min(request.Limit, MaxPage);
        await Accounts.RequireEnabledAsync(grains, by);

        var query = new Models.HistoryQuery(request.HasBefore ? request.Before : null, request.HasAfter ? request.After : null, limit);
        var page = await grains.Ref<IConversationGrain>(conversation).HistoryAsync(by, query);
        var response = new GetHistoryResponse();
        response.Messages.AddRange(page.Select(m => m.ToProto()));
        return response;
    }
}
