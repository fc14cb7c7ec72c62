using Grpc.Core;

namespace ImOrleans.Tests.Grpc;

/// <summary>Reading server streams with a timeout per item, so a missing event fails the test instead of hanging it.</summary>
public static class Streams
{
    public static async Task<T> NextAsync<T>(IAsyncStreamReader<T> stream, string what, int timeoutMs = 15_000)
    {
        using var timeout = new CancellationTokenSource(timeoutMs);
        try
        {
            if (await stream.MoveNext(timeout.Token))
                return stream.Current;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && timeout.IsCancellationRequested)
        {
        }
        Assert.Fail($"Timed out after {timeoutMs} ms (or the stream ended) waiting for: {what}");
        return default!;
    }

    public static async Task<List<T>> TakeAsync<T>(IAsyncStreamReader<T> stream, int count, string what)
    {
        var items = new List<T>();
        for (var i = 0; i < count; i++)
            items.Add(await NextAsync(stream, $"{what} ({i + 1} of {count})"));
        return items;
    }

    /// <summary>True if the stream yields nothing within <paramref name="quietMs"/>. Cancels the call when it is quiet.</summary>
    public static async Task<bool> StaysQuietAsync<T>(IAsyncStreamReader<T> stream, int quietMs)
    {
        using var quiet = new CancellationTokenSource(quietMs);
        try
        {
            return !await stream.MoveNext(quiet.Token);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled)
        {
            return true;
        }
    }
}
