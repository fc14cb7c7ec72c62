using ImOrleans.Tests.Infrastructure;
using MQTTnet;

namespace ImOrleans.Tests.Gateway;

/// <summary>The cap on connections that have not sent their CONNECT yet, on a server of its own. Its CONNECT
/// deadline is five minutes, so the held connections stay pending for the whole test even on a loaded machine, and a
/// close within half a minute can only be the cap's (with the 2 s deadline of <see cref="MqttListenerAbuseTests"/> the
/// held connections could expire before the server had dispatched the last of them; with 3 s to see the close, a
/// full test run, with grain tests busy in this process, sometimes saw it too late).</summary>
[TestClass]
public sealed class MqttPendingCapTests
{
    private const int MaxPendingConnections = 24;
    private static SiloProcess _server = null!;

    [ClassInitialize]
    public static async Task StartAsync(TestContext _) =>
        _server = await SiloProcess.StartAsync(TempDirectory.Create("pending-cap"),
            "--Gateway:ConnectTimeout=00:05:00", $"--Gateway:MaxPendingConnections={MaxPendingConnections}",
            "--Auth:RegistrationsPerMinute=1000000");

    [ClassCleanup]
    public static async Task StopAsync() => await _server.DisposeAsync();

    [TestMethod]
    public async Task ConnectionsBeyondThePendingCapAreClosedAndTheCapFreesUp()
    {
        var held = new List<RawConnection>();
        try
        {
            for (var i = 0; i < MaxPendingConnections; i++)
                held.Add(await RawConnection.OpenAsync(_server, MqttTransport.Tcp));
            // Accepted sockets become pending as Kestrel dispatches them; give it a moment to see all of them.
            await Eventually.TrueAsync(RefusedAtOnceAsync, "a connection over the cap of connections without CONNECT is closed at once",
                timeoutMs: 65_000);
        }
        finally
        {
            foreach (var c in held)
                await c.DisposeAsync();
        }
        await Eventually.TrueAsync(async () =>
        {
            var user = await HttpAccounts.RegisterAsync(_server, "cap");
            await using var client = await MqttTestClient.ConnectAsync(_server.MqttPort, user, "phone", Chat.Password);
            return client.ConnectResult.ResultCode == MqttClientConnectResultCode.Success;
        }, "a normal client connects once the held connections are gone", timeoutMs: 20_000);
    }

    /// <summary>Closed within half a minute (at once, on an idle machine), where the CONNECT deadline would take five.</summary>
    private static async Task<bool> RefusedAtOnceAsync()
    {
        try
        {
            await using var extra = await RawConnection.OpenAsync(_server, MqttTransport.Tcp);
            return await extra.ClosedByServerWithinAsync(TimeSpan.FromSeconds(30));
        }
        catch (System.Net.Sockets.SocketException)
        {
            return true; // reset before the client even saw the connection established
        }
    }
}
