using System.CommandLine;
using Grpc.Core;
using ImOrleans.Gateway.Grpc.V1;

namespace ImOrleans.ImCtl.Commands;

/// <summary><c>imctl watch</c>: the event stream of new messages, until Ctrl-C.</summary>
public static class WatchCommand
{
    public static Command Create()
    {
        var conv = new Option<string?>("--conv") { Description = "Only messages of this conversation" };
        var after = new Option<long>("--after")
        {
            Description = "Start after this position (0 = from the beginning); pass the last position printed to resume without a gap",
        };
        var fromNow = new Option<bool>("--from-now") { Description = "Only messages stored from now on (ignores --after)" };
        var command = new Command("watch", "Print messages as they are stored, from a position, until Ctrl-C") { conv, after, fromNow };
        command.Run(async c =>
        {
            var last = c.Get(after);
            if (last < 0)
                throw new UsageException("--after must be 0 or a position printed earlier");
            var request = new SubscribeRequest { AfterPosition = last, Conversation = c.Get(conv) ?? "", FromNow = c.Get(fromNow) };
            c.Hint = c.Get(fromNow) ? "nothing received yet; run again with --from-now" : $"resume with --after {last}";
            using var call = c.Connection.Events.Subscribe(request, Connection.Stream(c.Ct));
            try
            {
                await foreach (var e in call.ResponseStream.ReadAllAsync(c.Ct))
                {
                    var json = Format.Json(e.Message);
                    json.Insert(0, "position", e.Position);
                    c.Output.Write(json, $"@{e.Position}  {e.Message.Conversation}  {Format.Text(e.Message)}");
                    last = e.Position;
                    c.Hint = $"resume with --after {last}";
                }
            }
            catch (Exception ex) when (c.Ct.IsCancellationRequested && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                // Ctrl-C: the normal way to stop watching.
            }
        });
        return command;
    }
}
