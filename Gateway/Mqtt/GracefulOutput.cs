using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>A connection's output that, when MQTTnet completes it with an error, completes it cleanly instead, so what
/// was written last still goes out. MQTTnet ends a connection by cancelling its read, and completes the output with
/// that cancellation: Kestrel then drops whatever it had not sent yet, which is often the DISCONNECT just written (the
/// client sees the connection closed, not "session taken over" or "use another server"). A client that does not read
/// must not hold the socket open by it: the connection is aborted if it has not closed <see cref="Linger"/> later.</summary>
internal sealed class GracefulOutput(PipeWriter inner, ConnectionContext connection) : PipeWriter
{
    /// <summary>How long the last bytes may take to leave before the connection is cut.</summary>
    public static readonly TimeSpan Linger = TimeSpan.FromSeconds(2);

    private int _completed;

    public override void Complete(Exception? exception = null)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
            return;
        inner.Complete();
        AbortIfStillOpenLater();
    }

    public override ValueTask CompleteAsync(Exception? exception = null)
    {
        Complete(exception);
        return ValueTask.CompletedTask;
    }

    private void AbortIfStillOpenLater()
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

    public override void Advance(int bytes) => inner.Advance(bytes);
    public override void CancelPendingFlush() => inner.CancelPendingFlush();
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);
    public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);
    public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);
    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) =>
        inner.WriteAsync(source, cancellationToken);
    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;
    public override long UnflushedBytes => inner.UnflushedBytes;
}
