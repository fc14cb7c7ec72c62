using System.CommandLine;
using ImOrleans.Gateway.Grpc.V1;

namespace ImOrleans.ImCtl.Commands;

/// <summary><c>imctl conv create|get|list|add|remove|role|retention</c>.</summary>
public static class ConversationCommands
{
    public static Command Create() => new("conv", "Create and manage conversations")
    {
        CreateCommand(), Get(), List(), Add(), Remove(), Role(), Retention(),
    };

    /// <summary>--as: the acting user. Without it the system acts, which may do anything.</summary>
    internal static Option<string> AsOption(string description = "Act as this user (default: the system, which has every right)") =>
        new("--as") { Description = description };

    private static Argument<string> ConversationArgument() => new("conv") { Description = "Conversation id (g-… or d:…:…)" };

    private static Command CreateCommand()
    {
        var asUser = AsOption("The creating user; the owner of a group (required for --group)");
        var direct = new Option<string?>("--direct") { Description = "Create the direct conversation with this user (with --as), or between two users a,b" };
        var group = new Option<bool>("--group") { Description = "Create a group" };
        var title = new Option<string?>("--title") { Description = "Group title" };
        var members = new Option<string[]>("--members")
        {
            Description = "Group members besides the owner, comma-separated (may be repeated)",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("create", "Create a direct conversation or a group") { asUser, direct, group, title, members };
        command.Run(async c =>
        {
            var request = new CreateConversationRequest { AsUser = c.Get(asUser) ?? "" };
            switch (c.Get(direct), c.Get(group))
            {
                case ({ } other, false):
                    if (c.Get(members) is { Length: > 0 } || c.Get(title) is not null)
                        throw new UsageException("--members and --title go with --group, not --direct");
                    request.Kind = ConversationKind.Direct;
                    request.Members.AddRange(SplitList(other));
                    break;
                case (null, true):
                    if (request.AsUser.Length == 0)
                        throw new UsageException("--group needs --as <owner>");
                    request.Kind = ConversationKind.Group;
                    request.Title = c.Get(title) ?? "";
                    request.Members.AddRange(SplitList(c.Get(members)));
                    break;
                default:
                    throw new UsageException("give either --direct <user> or --group");
            }
            var created = await c.Connection.Conversations.CreateConversationAsync(request, c.Unary);
            c.Output.Write(Format.Json(created), Format.Text(created));
        });
        return command;
    }

    private static Command Get()
    {
        var conv = ConversationArgument();
        var asUser = AsOption();
        var command = new Command("get", "Show a conversation and its members") { conv, asUser };
        command.Run(async c =>
        {
            var found = await c.Connection.Conversations.GetConversationAsync(
                new GetConversationRequest { Conversation = c.Get(conv), AsUser = c.Get(asUser) ?? "" }, c.Unary);
            c.Output.Write(Format.Json(found), Format.Text(found));
        });
        return command;
    }

    private static Command List()
    {
        var user = new Argument<string>("user") { Description = "The user whose conversations to list" };
        var command = new Command("list", "List a user's conversations, most recently active first") { user };
        command.Run(async c =>
        {
            var list = await c.Connection.Conversations.ListConversationsAsync(new ListConversationsRequest { User = c.Get(user) }, c.Unary);
            foreach (var s in list.Conversations)
                c.Output.Write(Format.Json(s), Format.Text(s));
            if (list.Conversations.Count == 0 && !c.Output.Json)
                Output.Note("no conversations");
        });
        return command;
    }

    private static Command Add()
    {
        var conv = ConversationArgument();
        var users = UsersArgument("Users to add");
        var asUser = AsOption();
        var command = new Command("add", "Add users to a group") { conv, users, asUser };
        command.Run(async c =>
        {
            var request = new AddMembersRequest { Conversation = c.Get(conv), AsUser = c.Get(asUser) ?? "" };
            request.Users.AddRange(SplitList(c.Get(users)));
            var changed = await c.Connection.Conversations.AddMembersAsync(request, c.Unary);
            c.Output.Write(Format.Json(changed), Format.Text(changed));
        });
        return command;
    }

    private static Command Remove()
    {
        var conv = ConversationArgument();
        var users = UsersArgument("Users to remove");
        var asUser = AsOption();
        var command = new Command("remove", "Remove users from a group") { conv, users, asUser };
        command.Run(async c =>
        {
            var request = new RemoveMembersRequest { Conversation = c.Get(conv), AsUser = c.Get(asUser) ?? "" };
            request.Users.AddRange(SplitList(c.Get(users)));
            var changed = await c.Connection.Conversations.RemoveMembersAsync(request, c.Unary);
            c.Output.Write(Format.Json(changed), Format.Text(changed));
        });
        return command;
    }

    private static Command Role()
    {
        var conv = ConversationArgument();
        var user = new Argument<string>("user") { Description = "The member whose role changes" };
        var role = new Argument<string>("role") { Description = "member, admin or owner" };
        role.AcceptOnlyFromAmong("member", "admin", "owner");
        var asUser = AsOption();
        var command = new Command("role", "Set a member's role in a group") { conv, user, role, asUser };
        command.Run(async c =>
        {
            var request = new SetRoleRequest
            {
                Conversation = c.Get(conv),
                User = c.Get(user),
                AsUser = c.Get(asUser) ?? "",
                Role = c.Get(role) switch { "admin" => Gateway.Grpc.V1.Role.Admin, "owner" => Gateway.Grpc.V1.Role.Owner, _ => Gateway.Grpc.V1.Role.Member },
            };
            var changed = await c.Connection.Conversations.SetRoleAsync(request, c.Unary);
            c.Output.Write(Format.Json(changed), Format.Text(changed));
        });
        return command;
    }

    private static Command Retention()
    {
        var conv = ConversationArgument();
        var days = new Argument<int>("days") { Description = "Days to keep messages (1-36500); 0 for the server's Limits:RetentionDays" };
        var asUser = AsOption();
        var command = new Command("retention", "Set how long a conversation keeps its messages") { conv, days, asUser };
        command.Run(async c =>
        {
            var set = await c.Connection.Conversations.SetRetentionAsync(
                new SetRetentionRequest { Conversation = c.Get(conv), Days = c.Get(days), AsUser = c.Get(asUser) ?? "" }, c.Unary);
            c.Output.Write(new System.Text.Json.Nodes.JsonObject { ["id"] = set.Conversation, ["days"] = set.Days },
                set.Days == 0 ? $"{set.Conversation} keeps messages as the server says" : $"{set.Conversation} keeps messages {set.Days} days");
        });
        return command;
    }

    internal static Argument<string[]> UsersArgument(string description) =>
        new("users") { Description = $"{description} (separated by spaces or commas)", Arity = ArgumentArity.OneOrMore };

    /// <summary>"a,b c" → a, b, c: lists may be given comma-separated, space-separated or both.</summary>
    internal static IEnumerable<string> SplitList(params string?[]? values) =>
        (values ?? []).SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
