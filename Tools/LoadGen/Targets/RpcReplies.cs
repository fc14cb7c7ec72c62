using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using MQTTnet;

namespace ImOrleans.Tools.LoadGen.Targets;

/// <summary>ImOrleans RPCs over one connection: publishes <c>rpc/{method}</c> with a fresh <c>rid</c> and hands back
/// the reply's <c>result</c> from <c>u/{me}/r</c>.</summary>
public sealed class RpcReplies(string user)
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new();
    private int _next;

    public Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        if (e.ApplicationMessage.Topic != $"u/{user}/r")
            return Task.CompletedTask;
        using var reply = JsonDocument.Parse(e.ApplicationMessage.Payload);
        if (reply.RootElement.TryGetProperty("rid", out var rid) && _pending.TryRemove(rid.GetString() ?? "", out var waiting))
            waiting.TrySetResult(reply.RootElement.Clone());
        return Task.CompletedTask;
    }

    public async Task<JsonElement> CallAsync(IMqttClient client, string method, object args)
    {
        var rid = Interlocked.Increment(ref _next).ToString();
        var waiting = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[rid] = waiting;
        var request = JsonSerializer.SerializeToNode(args)!.AsObject();
        request["rid"] = rid;
        using var timeout = new CancellationTokenSource(MqttConnector.Timeout);
        await client.PublishAsync(MqttConnector.QoS1($"rpc/{method}", JsonSerializer.SerializeToUtf8Bytes(request)), timeout.Token);
        var reply = await waiting.Task.WaitAsync(MqttConnector.Timeout);
        return reply.GetProperty("ok").GetBoolean() ? reply.GetProperty("result") : throw new InvalidOperationException($"{method}: {reply}");
    }
}
