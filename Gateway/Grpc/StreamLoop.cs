using Grpc.Core;

namespace ImOrleans.Gateway.Grpc;

/// <summary>Runs the loop of a server stream that only ends when its caller leaves. On a graceful shutdown it
/// ends the call with Unavailable at once, instead of holding the shutdown until the host's timeout, and the
/// caller reconnects (to another gateway, where there is one) and resumes.</summary>
public static class StreamLoop
{
    public static async Task RunAsync(ServerCallContext context, IHostApplicationLifetime lifetime,
        Func<CancellationToken, Task> loop, Func<string> shutdownMessage)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            await loop(stop.Token);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The caller went away or its deadline passed: the normal end of a stream.
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, shutdownMessage()));
        }
    }
}
