using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>Reads and drops what a client still sends once its connection is over, until the client closes its end or
/// <see cref="Linger"/> passes; only then may the socket close. A socket closed with input unread is
/// reset, and a client that is still sending then fails on a broken pipe, often before it has read the DISCONNECT
/// that told it why (session taken over, server moved): the lingering close of HTTP servers.</summary>
internal static class LingeringClose
{
    /// <summary>How long the last bytes may take to leave, and the client to close its end, before the connection is cut.</summary>
    public static readonly TimeSpan Linger = TimeSpan.FromSeconds(2);

    /// <summary>Ends the connection: what was written last goes out, what the client still sends is read and dropped
    /// meanwhile, and a client that takes neither within <see cref="Linger"/> is cut.</summary>
    public static async Task CloseAsync(ConnectionContext connection)
    {
        CutIfStillOpenLater(connection);
        try
        {
            await connection.Transport.Output.CompleteAsync();
        }
        catch (Exception ex) when (ex is IOException or ConnectionAbortedException or ObjectDisposedException or OperationCanceledException)
        {
            // cut meanwhile
        }
        await DrainAsync(connection.Transport.Input);
        await connection.Transport.Input.CompleteAsync();
    }

    /// <summary>Cuts <paramref name="connection"/> if it is still open <see cref="Linger"/> from now: a client that takes
    /// neither the last bytes nor its leave must not keep the connection, and its buffers, alive.</summary>
    private static void CutIfStillOpenLater(ConnectionContext connection)
    {
        CancellationToken closed;
        try
        {
            closed = connection.ConnectionClosed;
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        if (closed.IsCancellationRequested)
            return;
        var timer = new Timer(_ =>
        {
            try
            {
                connection.Abort(new ConnectionAbortedException("the client did not take the last bytes in time"));
            }
            catch (ObjectDisposedException)
            {
                // closed meanwhile
            }
        }, null, Linger, Timeout.InfiniteTimeSpan);
        closed.Register(() => timer.Dispose());
    }

    private static async Task DrainAsync(PipeReader input)
    {
        using var linger = new CancellationTokenSource(Linger);
        try
        {
            while (true)
            {
                var read = await input.ReadAsync(linger.Token);
                input.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                    return;
            }
        }
        catch (Exception)
        {
            // Lingered long enough, or the connection was aborted or reset: it is over either way.
        }
    }
}
