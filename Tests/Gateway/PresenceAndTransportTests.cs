using System.Diagnostics;
using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;

namespace ImOrleans.Tests.Gateway;

[TestClass]
public sealed class PresenceAndTransportTests
{
    private static async Task<(MqttTestClient Alice, string Bob)> MutualContactsAsync()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var bobSetup = await GatewayFixture.ConnectAsync(bob, "setup");
        await alicePhone.CallAsync("contacts.add", new JsonObject { ["user"] = bob });
        await bobSetup.CallAsync("contacts.add", new JsonObject { ["user"] = alice });
        await bobSetup.DisconnectAsync();
        await alicePhone.WaitForAsync("p", p => (string?)p["user"] == bob && (string?)p["status"] == "offline", "bob's setup device left");
        return (alicePhone, bob);
    }

    [TestMethod]
    public async Task ContactsSeeOnlineThenOfflineAfterAnAbruptDisconnect()
    {
        var (alice, bob) = await MutualContactsAsync();
        await using var _ = alice;
        var before = alice.Received("p").Count;

        var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        await alice.WaitForAsync("p", p => (string?)p["user"] == bob && (string?)p["status"] == "online", "bob online");
        var presence = await alice.CallAsync("presence.get", new JsonObject { ["users"] = new JsonArray(bob) });
        Assert.AreEqual("online", (string?)presence!["presence"]![0]!["status"]);

        bobPhone.Abort();
        await Eventually.TrueAsync(() => alice.Received("p").Skip(before).Any(p => (string?)p["user"] == bob && (string?)p["status"] == "offline"),
            "bob offline after his socket dropped");
        var seen = alice.Received("p").Last(p => (string?)p["user"] == bob);
        Assert.IsNotNull((long?)seen["lastSeen"]);
    }

    [TestMethod]
    public async Task FrozenClientGoesOfflineWhenItsKeepaliveRunsOut()
    {
        var (alice, bob) = await MutualContactsAsync();
        await using var _ = alice;
        var silo = await GatewayFixture.SiloAsync();
        var seen = alice.Received("p").Count; // an earlier "online" of bob's setup device must not count
        // mosquitto_sub with a 5 s keepalive, then frozen with SIGSTOP: its socket stays open but silent.
        var sub = Mosquitto("mosquitto_sub", "-h", "127.0.0.1", "-p", $"{silo.MqttPort}", "-k", "5",
            "-i", $"{bob}/frozen", "-u", bob, "-P", Chat.Password, "-t", $"u/{bob}/#");
        try
        {
            await Eventually.TrueAsync(() => alice.Received("p").Skip(seen).Any(p => (string?)p["user"] == bob && (string?)p["status"] == "online"),
                "bob online through mosquitto_sub");
            var before = alice.Received("p").Count;
            using (var stop = Process.Start("kill", $"-STOP {sub.Id}"))
                await stop.WaitForExitAsync();

            // The server allows 1.5 × keepalive before it gives up on the client.
            await Eventually.TrueAsync(() => alice.Received("p").Skip(before).Any(p => (string?)p["user"] == bob && (string?)p["status"] == "offline"),
                "bob offline once his keepalive ran out", 20_000);
        }
        finally
        {
            sub.Kill();
            await sub.WaitForExitAsync();
        }
    }

    [TestMethod]
    public async Task ExplicitStatusReachesContacts()
    {
        var (alice, bob) = await MutualContactsAsync();
        await using var _ = alice;
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");

        await bobPhone.PublishAsync("p", new { status = "busy", text = "in a meeting" });

        var p = await alice.WaitForAsync("p", p => (string?)p["status"] == "busy", "busy status");
        Assert.AreEqual("in a meeting", (string?)p["text"]);
        Assert.AreEqual(MqttClientPublishReasonCode.PayloadFormatInvalid, (await bobPhone.PublishAsync("p", new { status = "asleep" })).ReasonCode);
    }

    [TestMethod]
    public async Task StrangersDoNotSeePresence()
    {
        var (alice, stranger) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var strangerPhone = await GatewayFixture.ConnectAsync(stranger, "phone");

        var presence = await strangerPhone.CallAsync("presence.get", new JsonObject { ["users"] = new JsonArray(alice) });

        Assert.AreEqual("offline", (string?)presence!["presence"]![0]!["status"]);
    }

    [TestMethod]
    public async Task WebSocketClientsChatWithTcpClients()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        var silo = await GatewayFixture.SiloAsync();
        await using var browser = await MqttTestClient.ConnectAsync(0, alice, "browser", Chat.Password, MqttProtocolVersion.V311,
            webSocketUri: $"ws://127.0.0.1:{silo.HttpPort}/mqtt");
        Assert.AreEqual(MqttClientConnectResultCode.Success, browser.ConnectResult.ResultCode);
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(browser, "direct", bob);

        await browser.SendAsync(conv, "w1", "from the browser");
        await bobPhone.SendAsync(conv, "t1", "from the phone");

        await bobPhone.WaitForAsync("m", m => (string?)m["id"] == "w1", "phone gets the browser's message");
        await browser.WaitForAsync("m", m => (string?)m["id"] == "t1", "browser gets the phone's message");
    }

    private static Process Mosquitto(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    [TestMethod]
    public async Task StockMosquittoClientsChat()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        var silo = await GatewayFixture.SiloAsync();
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        await alicePhone.CallAsync("contacts.add", new JsonObject { ["user"] = bob });

        // bob listens with mosquitto_sub, exactly as the README shows
        var sub = Mosquitto("mosquitto_sub", "-h", "127.0.0.1", "-p", $"{silo.MqttPort}", "-V", "mqttv5", "-q", "1",
            "-i", $"{bob}/terminal", "-u", bob, "-P", Chat.Password, "-t", $"u/{bob}/#", "-v");
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        sub.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        sub.BeginOutputReadLine();
        try
        {
            await using var bobSetup = await GatewayFixture.ConnectAsync(bob, "setup");
            await bobSetup.CallAsync("contacts.add", new JsonObject { ["user"] = alice });
            await alicePhone.WaitForAsync("p", p => (string?)p["user"] == bob && (string?)p["status"] == "online", "bob online");
            await alicePhone.SendAsync(conv, "a1", "hello terminal");
            await Eventually.TrueAsync(() => lines.Any(l => l.StartsWith($"u/{bob}/m ") && l.Contains("hello terminal")), "mosquitto_sub prints the message");

            // mosquitto_pub sends as bob; alice gets it
            var pub = Mosquitto("mosquitto_pub", "-h", "127.0.0.1", "-p", $"{silo.MqttPort}", "-V", "mqttv311", "-q", "1",
                "-i", $"{bob}/pub", "-u", bob, "-P", Chat.Password, "-t", $"c/{conv}/m", "-m", "{\"id\":\"p1\",\"body\":\"hello phone\"}");
            await pub.WaitForExitAsync();
            Assert.AreEqual(0, pub.ExitCode, await pub.StandardError.ReadToEndAsync());
            await alicePhone.WaitForAsync("m", m => (string?)m["body"] == "hello phone", "alice gets mosquitto_pub's message");

            // a wrong password makes mosquitto_pub fail with the MQTT 5 reason code
            var bad = Mosquitto("mosquitto_pub", "-h", "127.0.0.1", "-p", $"{silo.MqttPort}", "-V", "mqttv5", "-q", "1",
                "-i", $"{bob}/bad", "-u", bob, "-P", "wrongwrong", "-t", $"c/{conv}/m", "-m", "x");
            await bad.WaitForExitAsync();
            Assert.AreEqual(134, bad.ExitCode, "mosquitto_pub exits with reason code 134 (bad user name or password)");
        }
        finally
        {
            sub.Kill(); // SIGKILL: the connection is lost without a DISCONNECT
            await sub.WaitForExitAsync();
        }
        await alicePhone.WaitForAsync("p", p => (string?)p["user"] == bob && (string?)p["status"] == "offline", "bob offline after mosquitto_sub was killed");
    }
}
