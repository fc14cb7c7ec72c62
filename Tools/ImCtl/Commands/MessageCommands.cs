using System.CommandLine;
using ImOrleans.Gateway.Grpc.V1;

namespace ImOrleans.ImCtl.Commands;

/// <summary><c>imctl send</c>, <c>imctl history</c>, <c>imctl delete</c> and <c>imctl search</c>.</summary>
public static class MessageCommands
{
    public static Command Send()
    {
        var conv = new Argument<string>("conv") { Description = "Conversation id" };
        var body = new Argument<string>("body") { Description = "Message text" };
        var asUser = ConversationCommands.AsOption("Send as this user (default: the system sender \"system\")");
        var device = new Option<string?>("--device") { Description = "Sending device of --as (that device gets no copy)" };
        var id = new Option<string?>("--id")
        {
            Description = "Client message id: sending again with the same id stores nothing new (default: a fresh id)",
        };
        var command = new Command("send", "Send a message (as the system unless --as is given)") { conv, body, asUser, device, id };
        command.Run(async c =>
        {
            var sent = await c.Connection.Messages.SendMessageAsync(new SendMessageRequest
            {
                Conversation = c.Get(conv),
                Body = c.Get(body),
                FromUser = c.Get(asUser) ?? "",
                Device = c.Get(device) ?? "",
                ClientMessageId = c.Get(id) ?? "",
            }, c.Unary);
            var json = Format.Json(sent.Message);
            json["duplicate"] = sent.Duplicate;
            var m = sent.Message;
            c.Output.Write(json, $"sent {m.Conversation} #{m.Seq} id {m.ClientMessageId}{(sent.Duplicate ? " (duplicate: it was already stored)" : "")}");
        });
        return command;
    }

    public static Command History()
    {
        var conv = new Argument<string>("conv") { Description = "Conversation id" };
        var before = new Option<long?>("--before") { Description = "Only messages with seq below this (page backwards)" };
        var after = new Option<long?>("--after") { Description = "Only messages with seq above this (page forwards)" };
        var limit = new Option<int>("--limit") { Description = "Page size, 1-200", DefaultValueFactory = _ => 50 };
        var asUser = ConversationCommands.AsOption("Read as this user (must be a member; default: the system)");
        var command = new Command("history", "Show a page of messages, oldest first (the newest page by default)") { conv, before, after, limit, asUser };
        command.Run(async c =>
        {
            if (c.Get(before) is not null && c.Get(after) is not null)
                throw new UsageException("give --before or --after, not both");
            var request = new GetHistoryRequest { Conversation = c.Get(conv), AsUser = c.Get(asUser) ?? "", Limit = c.Get(limit) };
            if (c.Get(before) is { } b)
                request.Before = b;
            if (c.Get(after) is { } a)
                request.After = a;
            var page = await c.Connection.Messages.GetHistoryAsync(request, c.Unary);
            foreach (var m in page.Messages)
                c.Output.Write(Format.Json(m), Format.Text(m));
            if (page.Messages.Count == 0 && !c.Output.Json)
                Output.Note("no messages");
        });
        return command;
    }

    public static Command Delete()
    {
        var conv = new Argument<string>("conv") { Description = "Conversation id" };
        var seq = new Argument<long>("seq") { Description = "Seq of the message to delete" };
        var asUser = ConversationCommands.AsOption("Delete as this user (its own message, or as a group admin; default: the system)");
        var id = new Option<string?>("--id") { Description = "Client id of the delete entry: repeating it stores nothing new (default: a fresh id)" };
        var command = new Command("delete", "Delete a message for everyone: its text is removed from storage, a tombstone keeps its seq")
        {
            conv, seq, asUser, id,
        };
        command.Run(async c =>
        {
            var deleted = await c.Connection.Messages.DeleteMessageAsync(new DeleteMessageRequest
            {
                Conversation = c.Get(conv), Seq = c.Get(seq), AsUser = c.Get(asUser) ?? "", ClientMessageId = c.Get(id) ?? "",
            }, c.Unary);
            var json = Format.Json(deleted.Message);
            json["duplicate"] = deleted.Duplicate;
            c.Output.Write(json, $"deleted {deleted.Message.Conversation} #{c.Get(seq)} (delete entry #{deleted.Message.Seq})");
        });
        return command;
    }

    public static Command Search()
    {
        var conv = new Argument<string>("conv") { Description = "Conversation id" };
        var query = new Argument<string>("query") { Description = "Words to find (all of them)" };
        var before = new Option<long?>("--before") { Description = "Only messages with seq below this (the next page)" };
        var limit = new Option<int>("--limit") { Description = "Page size, 1-100", DefaultValueFactory = _ => 20 };
        var asUser = ConversationCommands.AsOption("Search as this user (must be a member; default: the system)");
        var command = new Command("search", "Find messages of a conversation by their text, newest first") { conv, query, before, limit, asUser };
        command.Run(async c =>
        {
            var request = new SearchMessagesRequest { Conversation = c.Get(conv), Query = c.Get(query), AsUser = c.Get(asUser) ?? "", Limit = c.Get(limit) };
            if (c.Get(before) is { } b)
                request.Before = b;
            var found = await c.Connection.Messages.SearchMessagesAsync(request, c.Unary);
            foreach (var m in found.Messages)
                c.Output.Write(Format.Json(m), Format.Text(m));
            if (found.Messages.Count == 0 && !c.Output.Json)
                Output.Note("no messages found");
        });
        return command;
    }
}
