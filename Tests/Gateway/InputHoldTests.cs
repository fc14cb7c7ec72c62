using System.Buffers;
using System.IO.Pipelines;
using ImOrleans.Gateway.Mqtt;

namespace ImOrleans.Tests.Gateway;

/// <summary>A held connection input (<see cref="GuardedConnections"/>) hands MQTTnet nothing more until MQTTnet cancels its read
/// or the hold runs out, and a cancelled read leaves what it had for the lingering close. The takeover itself, over
/// real sockets, is in <see cref="ServerDisconnectTests"/>.</summary>
[TestClass]
public sealed class InputHoldTests
{
    // Packets as the frame reader sees them: a type and a remaining length of 0.
    private static readonly byte[] Connect = [0x10, 0x00];
    private static readonly byte[] PingReq = [0xC0, 0x00];

    [TestMethod]
    public async Task HeldInputHandsNothingOnUntilTheHoldRunsOut()
    {
        var (pipe, reader) = await ConnectedAsync();
        reader.Hold(TimeSpan.FromMilliseconds(600));
        await pipe.Writer.WriteAsync(PingReq);

        var read = reader.ReadAsync().AsTask();
        await Task.Delay(200);
        Assert.IsFalse(read.IsCompleted, "a packet that arrives while the input is held is not handed on");
        var result = await read.WaitAsync(TimeSpan.FromSeconds(10));
        CollectionAssert.AreEqual(PingReq, result.Buffer.ToArray(), "once the hold has run out, it is");
    }

    [TestMethod]
    public async Task CancellingAHeldReadEndsItAndLeavesTheInputReadable()
    {
        var (pipe, reader) = await ConnectedAsync();
        reader.Hold(TimeSpan.FromMinutes(1));
        await pipe.Writer.WriteAsync(PingReq);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAsync<OperationCanceledException>(async () => await reader.ReadAsync(cancel.Token),
            "MQTTnet's cancellation (after it wrote the DISCONNECT) ends a held read at once");
        Assert.IsTrue(pipe.Reader.TryRead(out var rest), "the transport's input is not left mid-read");
        CollectionAssert.AreEqual(PingReq, rest.Buffer.ToArray(), "what the held read had is still there to drain");
    }

    [TestMethod]
    public async Task AnInputNeverHeldIsReadAsItArrives()
    {
        var (pipe, reader) = await ConnectedAsync();
        await pipe.Writer.WriteAsync(PingReq);

        var result = await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        CollectionAssert.AreEqual(PingReq, result.Buffer.ToArray());
    }

    /// <summary>A frame reader over a pipe that has had its CONNECT read, as MQTTnet leaves it.</summary>
    private static async Task<(Pipe Pipe, MqttFrameReader Reader)> ConnectedAsync()
    {
        var pipe = new Pipe();
        var reader = new MqttFrameReader(pipe.Reader, 1024, () => { });
        await pipe.Writer.WriteAsync(Connect);
        var connect = await reader.ReadAsync();
        CollectionAssert.AreEqual(Connect, connect.Buffer.ToArray());
        reader.AdvanceTo(connect.Buffer.End);
        return (pipe, reader);
    }
}
