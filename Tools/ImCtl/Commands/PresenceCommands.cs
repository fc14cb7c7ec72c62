using System.CommandLine;
using Grpc.Core;
using ImOrleans.Gateway.Grpc.V1;

namespace ImOrleans.ImCtl.Commands;

/// <summary><c>imctl presence</c>: the presence of users now, or (with --watch) every change until Ctrl-C.</summary>
public static class PresenceCommands
{
    public static Command Create()
    {
        var users = ConversationCommands.UsersArgument("Users");
        var watch = new Option<bool>("--watch") { Description = "Keep printing changes until Ctrl-C" };
        var command = new Command("presence", "Show who is online (the real status, as the server sees it)") { users, watch };
        command.Run(async c =>
        {
            var ids = ConversationCommands.SplitList(c.Get(users));
            if (!c.Get(watch))
            {
                var request = new GetPresenceRequest();
                request.Users.AddRange(ids);
                foreach (var p in (await c.Connection.Presence.GetPresenceAsync(request, c.Unary)).Presence)
                    c.Output.Write(Format.Json(p), Format.Text(p));
                return;
            }

            var watchRequest = new WatchPresenceRequest();
            watchRequest.Users.AddRange(ids);
            using var call = c.Connection.Presence.WatchPresence(watchRequest, Connection.Stream(c.Ct));
            try
            {
                await foreach (var p in call.ResponseStream.ReadAllAsync(c.Ct))
                    c.Output.Write(Format.Json(p), Format.Text(p));
            }
            catch (Exception ex) when (c.Ct.IsCancellationRequested && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                // Ctrl-C: the normal way to stop watching.
            }
        });
        return command;
    }
}
