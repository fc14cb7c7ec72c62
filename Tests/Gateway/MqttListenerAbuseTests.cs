using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;
using MQTTnet;

namespace ImOrleans.Tests.Gateway;

/// <summary>What one anonymous socket can cost the server: garbage, half packets, huge announced lengths and
/// silence on the MQTT listeners (TCP and WebSocket) of a real server process that nothing else uses, so its CPU
/// time is its own.</summary>
[TestClass]
public sealed class MqttListenerAbuseTests
{
    private const int MaxPendingConnections = 24;
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);
    private static SiloProcess _server = null!;

    [ClassInitialize]
    public static async Task StartAsync(TestContext _) =>
        _server = await SiloProcess.StartAsync(TempDirectory.Create("abuse"),
            $"--Gateway:ConnectTimeout={ConnectTimeout}", $"--Gateway:MaxPendingConnections={MaxPendingConnections}",
            "--Gateway:MaxPayloadBytes=4096", "--Auth:RegistrationsPerMinute=1000000", "--Auth:FailedLoginsPerMinute=1000000");

    [ClassCleanup]
    public static async Task StopAsync() => await _server.DisposeAsync();

    /// <summary>Frames that end mid-packet or are not MQTT at all, each sent on a connection that then closes.</summary>
    private static IEnumerable<byte[]> Garbage()
    {
        var connect = MqttFrames.Connect("nobody/phone", "nobody", "secret");
        yield return connect[..(connect.Length / 2)];           // truncated CONNECT
        yield return [0x10, 0xFF, 0xFF, 0x7F];                  // CONNECT announcing ~2 MB, then nothing
        yield return [0x10, 0xFF, 0xFF, 0xFF, 0x7F];            // CONNECT announcing 256 MB
        yield return [0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]; // remaining length longer than four bytes
        yield return [0x30, 0x05, 0x00, 0x01, 0x61, 0x68, 0x69]; // PUBLISH before CONNECT
        var random = new Random(295);
        for (var i = 0; i < 8; i++)
        {
            var bytes = new byte[random.Next(4, 400)];
            random.NextBytes(bytes);
            yield return bytes;
        }
    }

    [TestMethod]
    [DataRow(MqttTransport.Tcp)]
    [DataRow(MqttTransport.WebSocket)]
    public async Task GarbageFromVanishedPeersLeavesTheServerIdleAndServing(MqttTransport transport)
    {
        var before = await TimeANormalConnectAsync();
        foreach (var frame in Garbage())
        {
            await using var connection = await RawConnection.OpenAsync(_server, transport);
            await connection.SendAsync(frame);
        }

        await AssertIdleAsync("after garbage from peers that hung up");
        // Within a second, unless this machine is so loaded that a connect took long before the garbage too:
        // spinning connections (the bug) made it take 4-10 s.
        var after = await TimeANormalConnectAsync();
        Assert.IsLessThan(TimeSpan.FromSeconds(1) + 2 * before, after, $"a normal client gets its CONNACK within a second (it took {before} before)");
    }

    [TestMethod]
    [DataRow(MqttTransport.Tcp)]
    [DataRow(MqttTransport.WebSocket)]
    public async Task AHugeAnnouncedConnectIsRefusedAtOnce(MqttTransport transport)
    {
        await using var connection = await RawConnection.OpenAsync(_server, transport);
        await connection.SendAsync([0x10, 0xFF, 0xFF, 0xFF, 0x7F]);
        Assert.IsTrue(await connection.ClosedByServerWithinAsync(TimeSpan.FromSeconds(1)),
            "a CONNECT announcing 256 MB is refused before any of it is buffered");
    }

    [TestMethod]
    public async Task AHugeAnnouncedPublishFromALoggedInClientIsRefusedAtOnce()
    {
        var user = await HttpAccounts.RegisterAsync(_server, "abuse");
        await using var connection = await RawConnection.OpenAsync(_server, MqttTransport.Tcp);
        await connection.SendAsync(MqttFrames.Connect($"{user}/raw", user, Chat.Password));
        var connack = await connection.ReceiveAsync(TimeSpan.FromSeconds(10));
        Assert.IsNotNull(connack, "CONNACK");
        Assert.AreEqual(0x20, connack[0]);
        Assert.AreEqual(0x00, connack[3], "CONNECT accepted");

        await connection.SendAsync([0x32, 0xFF, 0xFF, 0xFF, 0x7F]);
        Assert.IsTrue(await connection.ClosedByServerWithinAsync(TimeSpan.FromSeconds(1)),
            "a PUBLISH announcing 256 MB, far over Gateway:MaxPayloadBytes, ends the connection at once");
    }

    [TestMethod]
    public async Task ALoggedInClientThatSendsButNeverReadsIsCutOff()
    {
        var user = await HttpAccounts.RegisterAsync(_server, "abuse");
        await using var connection = await RawConnection.OpenAsync(_server, MqttTransport.Tcp);
        await connection.SendAsync(MqttFrames.Connect($"{user}/raw", user, Chat.Password));
        Assert.AreEqual((byte)0x20, (await connection.ReceiveAsync(TimeSpan.FromSeconds(10)))?[0], "CONNACK");

        // PINGREQs, never reading a PINGRESP: once the socket buffers are full the answers can only queue up on the
        // server, and it must cut the connection rather than keep them. Bounded: 64 MB at most.
        var pings = Enumerable.Repeat(MqttFrames.PingRequest, 32 * 1024).SelectMany(p => p).ToArray();
        var cut = false;
        for (var sent = 0; sent < 64 << 20 && !cut; sent += pings.Length)
        {
            try
            {
                await connection.SendAsync(pings).WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or TimeoutException)
            {
                cut = e is System.Net.Sockets.SocketException;
                break;
            }
        }
        Assert.IsTrue(cut || await connection.ClosedByServerWithinAsync(TimeSpan.FromSeconds(5)),
            "a client that only sends is cut off once its answers pile up");
        await AssertMessageExchangeWorksAsync();
    }

    [TestMethod]
    [DataRow(MqttTransport.Tcp)]
    [DataRow(MqttTransport.WebSocket)]
    public async Task AConnectionThatSendsNoConnectIsClosedAfterTheDeadline(MqttTransport transport)
    {
        await using var silent = await RawConnection.OpenAsync(_server, transport);
        await using var halfConnect = await RawConnection.OpenAsync(_server, transport);
        var connect = MqttFrames.Connect("nobody/phone", "nobody", "secret");
        await halfConnect.SendAsync(connect[..5]);

        var watch = Stopwatch.StartNew();
        Assert.IsTrue(await silent.ClosedByServerWithinAsync(ConnectTimeout + TimeSpan.FromSeconds(3)), "a silent connection is closed");
        Assert.IsTrue(await halfConnect.ClosedByServerWithinAsync(TimeSpan.FromSeconds(3)), "a connection stuck mid-CONNECT is closed");
        Assert.IsLessThan(ConnectTimeout + TimeSpan.FromSeconds(3), watch.Elapsed);
    }

    [TestMethod]
    public async Task ThousandsOfFuzzedFramesLeaveTheServerAliveIdleAndServing()
    {
        var memoryBefore = _server.ResidentBytes;
        var random = new Random(7001);
        var bases = new[]
        {
            MqttFrames.Connect("fuzz/a", "fuzz", version: 4),
            MqttFrames.Connect("fuzz/b", "fuzz", version: 5),
            [.. MqttFrames.Connect("fuzz/c", "fuzz"), .. MqttFrames.Publish("c/g-0/m", "{\"id\":\"1\",\"body\":\"x\"}"),
                .. MqttFrames.Subscribe("u/fuzz/#"), .. MqttFrames.PingRequest, .. MqttFrames.Disconnect],
        };
        foreach (var transport in new[] { MqttTransport.Tcp, MqttTransport.WebSocket })
        {
            var frames = Enumerable.Range(0, 1500).Select(_ => Mutate(bases[random.Next(bases.Length)], random)).ToList();
            await Parallel.ForEachAsync(frames, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (frame, _) =>
            {
                try
                {
                    await using var connection = await RawConnection.OpenAsync(_server, transport);
                    await connection.SendAsync(frame);
                }
                catch (Exception e) when (e is System.Net.Sockets.SocketException or System.Net.WebSockets.WebSocketException)
                {
                    // The server may hang up before the frame is sent (over the pending cap, or mid-send): fine.
                }
            });
        }

        Assert.IsFalse(_server.HasExited, "the server survived");
        await AssertIdleAsync("after 3000 fuzzed connections");
        var grown = _server.ResidentBytes - memoryBefore;
        Assert.IsLessThan(256L << 20, grown, $"memory grew by {grown >> 20} MB");
        await AssertMessageExchangeWorksAsync();
    }

    /// <summary>A valid frame with random damage: flipped bytes, a broken length, a cut, or junk appended.</summary>
    private static byte[] Mutate(byte[] frame, Random random)
    {
        var bytes = (byte[])frame.Clone();
        switch (random.Next(5))
        {
            case 0:
                for (var i = random.Next(1, 4); i > 0; i--)
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return bytes;
            case 1:
                bytes[1] = (byte)random.Next(256);
                return bytes;
            case 2:
                return bytes[..random.Next(1, bytes.Length)];
            case 3:
                var junk = new byte[random.Next(1, 64)];
                random.NextBytes(junk);
                return [.. bytes, .. junk];
            default:
                bytes[0] = (byte)random.Next(256);
                return bytes;
        }
    }

    /// <summary>A connection spinning on a dead peer keeps a core busy (a second of CPU per second); an idle
    /// server uses a few milliseconds.</summary>
    private static async Task AssertIdleAsync(string when)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        TimeSpan used;
        do
        {
            var before = _server.CpuTime;
            await Task.Delay(2000);
            used = _server.CpuTime - before;
            if (used < TimeSpan.FromMilliseconds(400))
                return;
        } while (DateTime.UtcNow < deadline);
        Assert.Fail($"the server still used {used.TotalMilliseconds:F0} ms of CPU per 2 s, 15 s {when}");
    }

    private static async Task<TimeSpan> TimeANormalConnectAsync()
    {
        var user = await HttpAccounts.RegisterAsync(_server, "abuse");
        // A token, as apps log in: the measured time is the server's, not a deliberately slow password hash's.
        var token = await HttpAccounts.TokenAsync(_server, user);
        var watch = Stopwatch.StartNew();
        await using var client = await MqttTestClient.ConnectAsync(_server.MqttPort, user, "phone", token, subscribe: false);
        watch.Stop();
        Assert.AreEqual(MqttClientConnectResultCode.Success, client.ConnectResult.ResultCode);
        return watch.Elapsed;
    }

    private static async Task AssertMessageExchangeWorksAsync()
    {
        var (alice, bob) = (await HttpAccounts.RegisterAsync(_server, "abuse"), await HttpAccounts.RegisterAsync(_server, "abuse"));
        await using var alicePhone = await MqttTestClient.ConnectAsync(_server.MqttPort, alice, "phone", Chat.Password);
        await using var bobPhone = await MqttTestClient.ConnectAsync(_server.MqttPort, bob, "phone", Chat.Password);
        var conv = (string)(await alicePhone.CallAsync("conv.create", new JsonObject { ["kind"] = "direct", ["members"] = new JsonArray(bob) }))!["conv"]!;
        var ack = await alicePhone.SendAsync(conv, "after-fuzz", "still here");
        Assert.IsTrue(ack.IsSuccess, ack.ReasonString);
        await bobPhone.WaitForAsync("m", m => (string?)m["id"] == "after-fuzz", "bob receives alice's message");
    }
}
