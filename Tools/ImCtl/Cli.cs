using System.CommandLine;
using System.Net.Sockets;
using Grpc.Core;
using ImOrleans.ImCtl.Commands;

namespace ImOrleans.ImCtl;

/// <summary>The command tree, and the one place where outcomes become exit codes and messages on stderr.</summary>
public static class Cli
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("imctl: administer an ImOrleans server over its internal gRPC API")
        {
            GlobalOptions.Address, GlobalOptions.ApiKey, GlobalOptions.Json,
            UserCommands.Create(), ConversationCommands.Create(), MessageCommands.Send(), MessageCommands.History(),
            MessageCommands.Delete(), MessageCommands.Search(),
            PresenceCommands.Create(), WatchCommand.Create(),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine("Run with --help for usage.");
            return ExitCodes.Usage;
        }
        return await parse.InvokeAsync();
    }

    /// <summary>Sets a command's action: connects, runs <paramref name="body"/>, and turns failures into exit codes.</summary>
    public static void Run(this Command command, Func<Invocation, Task> body) =>
        command.SetAction(async (parse, ct) =>
        {
            var output = new Output(parse.GetValue(GlobalOptions.Json));
            var address = GlobalOptions.AddressOf(parse);
            Invocation? invocation = null;
            try
            {
                using var connection = new Connection(address, GlobalOptions.ApiKeyOf(parse));
                invocation = new Invocation(parse, connection, output, ct);
                await body(invocation);
                return ExitCodes.Ok;
            }
            catch (UsageException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return ExitCodes.Usage;
            }
            catch (RpcException ex) when (IsConnectionFailure(ex))
            {
                output.Error("CannotConnect", null, $"cannot reach {address}: {ex.Status.DebugException?.Message ?? ex.Status.Detail}");
                Hint(output, invocation?.Hint);
                return ExitCodes.CannotConnect;
            }
            catch (RpcException ex)
            {
                output.Error(ex.StatusCode.ToString(), ex.Trailers.GetValue(Connection.ErrorCodeTrailer), ex.Status.Detail);
                Hint(output, ex.StatusCode == StatusCode.Unauthenticated
                    ? $"pass --api-key or set {GlobalOptions.ApiKeyVariable} to a key from the server's Grpc:ApiKeys"
                    : invocation?.Hint);
                return ExitCodes.RpcError;
            }
        });

    private static void Hint(Output output, string? hint)
    {
        if (hint is not null && !output.Json)
            Output.Note($"hint: {hint}");
    }

    /// <summary>Unavailable raised by the client itself because no HTTP/2 connection could be made or kept,
    /// as opposed to Unavailable sent by a server that was reached.</summary>
    private static bool IsConnectionFailure(RpcException ex) =>
        ex.StatusCode == StatusCode.Unavailable && ex.Status.DebugException is HttpRequestException or SocketException or IOException;
}

/// <summary>What a command's action works with.</summary>
public sealed record Invocation(ParseResult Parse, Connection Connection, Output Output, CancellationToken Ct)
{
    /// <summary>Printed after an error, e.g. how to resume a stream that broke off.</summary>
    public string? Hint { get; set; }

    public T Get<T>(Argument<T> argument) => Parse.GetValue(argument)!;
    public T? Get<T>(Option<T> option) => Parse.GetValue(option);
    public CallOptions Unary => Connection.Unary(Ct);
}
