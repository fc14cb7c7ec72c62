using System.Diagnostics;
using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Grpc;

/// <summary>The ImCtl program run as a process against the real server: output, --json and exit codes.</summary>
[TestClass]
public sealed class ImCtlTests
{
    [TestMethod]
    public async Task CreatesUsersAGroupAndSendsASystemMessage()
    {
        var (alice, bob) = (Unique.User("cli"), Unique.User("cli"));

        var addAlice = await ImCtlRunner.RunAsync("user", "add", alice, "--password", Chat.Password);
        var addBob = await ImCtlRunner.RunAsync("user", "add", bob, "--password", Chat.Password, "--json");
        var group = await ImCtlRunner.RunAsync("conv", "create", "--as", alice, "--group", "--title", "Ops", "--members", bob, "--json");
        var conv = (string)group.Json.Single()["id"]!;
        var send = await ImCtlRunner.RunAsync("send", conv, "deploy at 5pm", "--id", "notice-1");
        var again = await ImCtlRunner.RunAsync("send", conv, "deploy at 5pm", "--id", "notice-1", "--json");
        var history = await ImCtlRunner.RunAsync("history", conv, "--as", bob, "--json");
        var text = await ImCtlRunner.RunAsync("history", conv);
        var list = await ImCtlRunner.RunAsync("conv", "list", bob);

        Assert.AreEqual(0, addAlice.ExitCode, addAlice.ToString());
        Assert.AreEqual($"created user {alice}\n", addAlice.Stdout);
        Assert.AreEqual(bob, (string?)addBob.Json.Single()["id"], addBob.ToString());
        Assert.AreEqual("group", (string?)group.Json.Single()["kind"]);
        Assert.AreEqual(0, send.ExitCode, send.ToString());
        StringAssert.Contains(send.Stdout, $"sent {conv} #1");
        Assert.IsTrue((bool)again.Json.Single()["duplicate"]!, again.ToString());
        var message = history.Json.Single();
        Assert.AreEqual("system", (string?)message["from"]);
        Assert.AreEqual("deploy at 5pm", (string?)message["body"]);
        Assert.AreEqual(1L, (long?)message["seq"]);
        StringAssert.Contains(text.Stdout, "system: deploy at 5pm");
        StringAssert.Contains(list.Stdout, conv);
        Assert.AreEqual("", send.Stderr + history.Stderr, "nothing on stderr when all goes well");
    }

    [TestMethod]
    public async Task ManagesAccountsMembersAndPresence()
    {
        var (alice, bob, carol) = (Unique.User("cli"), Unique.User("cli"), Unique.User("cli"));
        foreach (var u in new[] { alice, bob, carol })
            Assert.AreEqual(0, (await ImCtlRunner.RunAsync("user", "add", u, "--password", Chat.Password)).ExitCode);
        var conv = (string)(await ImCtlRunner.RunAsync("conv", "create", "--as", alice, "--group", "--members", bob, "--json")).Json.Single()["id"]!;

        var add = await ImCtlRunner.RunAsync("conv", "add", conv, carol, "--as", alice);
        var role = await ImCtlRunner.RunAsync("conv", "role", conv, bob, "admin", "--json");
        var remove = await ImCtlRunner.RunAsync("conv", "remove", conv, carol, "--as", bob, "--json");
        var direct = await ImCtlRunner.RunAsync("conv", "create", "--as", alice, "--direct", bob, "--json");
        var disable = await ImCtlRunner.RunAsync("user", "disable", carol);
        var get = await ImCtlRunner.RunAsync("user", "get", carol, "--json");
        var enable = await ImCtlRunner.RunAsync("user", "enable", carol);
        var passwd = await ImCtlRunner.RunAsync("user", "passwd", carol, "--password", "another fine password");
        var token = await ImCtlRunner.RunAsync("user", "token", alice);
        await using var phone = await GatewayFixture.ConnectAsync(alice, "phone", password: token.Stdout.Trim());
        var presence = await ImCtlRunner.RunAsync("presence", alice, bob, "--json");

        Assert.AreEqual(0, add.ExitCode, add.ToString());
        StringAssert.Contains(add.Stdout, carol);
        Assert.AreEqual("admin", (string?)role.Json.Single()["members"]!.AsArray().Single(m => (string?)m!["user"] == bob)!["role"], role.ToString());
        Assert.HasCount(2, remove.Json.Single()["members"]!.AsArray(), remove.ToString());
        Assert.AreEqual(Ids.Direct(alice, bob), (string?)direct.Json.Single()["id"], direct.ToString());
        Assert.AreEqual($"disabled user {carol}\n", disable.Stdout, disable.ToString());
        Assert.IsTrue((bool)get.Json.Single()["disabled"]!, get.ToString());
        Assert.AreEqual($"enabled user {carol}\n", enable.Stdout, enable.ToString());
        Assert.AreEqual(0, passwd.ExitCode, passwd.ToString());
        Assert.AreEqual(0, token.ExitCode, token.ToString());
        CollectionAssert.AreEqual(new[] { "online", "offline" }, presence.Json.Select(p => (string?)p["status"]).ToArray(), presence.ToString());
    }

    [TestMethod]
    public async Task ErrorsGoToStderrWithTheStatusAndAnExitCode()
    {
        var silo = await GatewayFixture.SiloAsync();
        var nobody = Unique.User("nobody");

        var notFound = await ImCtlRunner.RunAsync("user", "get", nobody);
        var notFoundJson = await ImCtlRunner.RunAsync("user", "get", nobody, "--json");
        var usage = await ImCtlRunner.RunAsync("conv", "create", "--as", nobody);
        var unknownCommand = await ImCtlRunner.RunAsync("frobnicate");
        var noKey = await ImCtlRunner.RunAsync(new Dictionary<string, string?> { ["IMCTL_API_KEY"] = null }, "user", "get", nobody);
        var flagsWin = await ImCtlRunner.RunAsync(new Dictionary<string, string?> { ["IMCTL_ADDRESS"] = "http://127.0.0.1:1" },
            "--address", $"http://127.0.0.1:{silo.GrpcPort}", "user", "get", nobody);
        var unreachable = await ImCtlRunner.RunAsync("--address", $"http://127.0.0.1:{FreePort.Next()}", "user", "get", nobody);

        Assert.AreEqual(1, notFound.ExitCode, notFound.ToString());
        Assert.AreEqual("", notFound.Stdout);
        StringAssert.Contains(notFound.Stderr, "NotFound (not_found)");
        Assert.AreEqual(1, notFoundJson.ExitCode);
        var error = JsonNode.Parse(notFoundJson.Stderr)!["error"]!;
        Assert.AreEqual("NotFound", (string?)error["status"], notFoundJson.ToString());
        Assert.AreEqual("not_found", (string?)error["code"]);
        Assert.AreEqual(2, usage.ExitCode, usage.ToString());
        StringAssert.Contains(usage.Stderr, "--direct");
        Assert.AreEqual(2, unknownCommand.ExitCode, unknownCommand.ToString());
        Assert.AreEqual(1, noKey.ExitCode, noKey.ToString());
        StringAssert.Contains(noKey.Stderr, "Unauthenticated");
        StringAssert.Contains(noKey.Stderr, "IMCTL_API_KEY");
        Assert.AreEqual(1, flagsWin.ExitCode, "--address overrides IMCTL_ADDRESS: " + flagsWin);
        StringAssert.Contains(flagsWin.Stderr, "NotFound");
        Assert.AreEqual(3, unreachable.ExitCode, unreachable.ToString());
        StringAssert.Contains(unreachable.Stderr, "cannot reach");
    }

    [TestMethod]
    public async Task WatchStreamsEventsAsJsonLinesUntilStoppedAndResumesFromAPosition()
    {
        var api = await Api.SharedAsync();
        var alice = await api.NewUserAsync();
        var conv = await api.NewGroupAsync(alice);
        await api.SendAsync(conv, "before the watch", id: "w1");

        using var watch = await ImCtlRunner.StartAsync(null, "watch", "--conv", conv, "--json");
        var first = await ReadLineAsync(watch, "the stored message");
        await api.SendAsync(conv, "during the watch", from: alice, id: "w2");
        var second = await ReadLineAsync(watch, "the live message");
        // SIGTERM rather than SIGINT: a shell that starts the tests in the background makes its children ignore
        // SIGINT. Both reach the same cancellation in ImCtl.
        using (var term = Process.Start("kill", $"-TERM {watch.Id}"))
            await term.WaitForExitAsync();
        using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await watch.WaitForExitAsync(exited.Token);
        await api.SendAsync(conv, "after the watch", id: "w3");
        using var resumed = await ImCtlRunner.StartAsync(null, "watch", "--conv", conv, "--after", ((long)second["position"]!).ToString());
        var third = await ReadLineAsync(resumed, "the message after the last position", json: false);
        resumed.Kill();
        await resumed.WaitForExitAsync();

        Assert.AreEqual(0, watch.ExitCode, await watch.StandardError.ReadToEndAsync());
        Assert.AreEqual("w1", (string?)first["clientMessageId"]);
        Assert.AreEqual("w2", (string?)second["clientMessageId"]);
        Assert.AreEqual(alice, (string?)second["from"]);
        Assert.IsTrue((long)second["position"]! > (long)first["position"]!);
        StringAssert.Contains(third, "#3");
        StringAssert.Contains(third, "system: after the watch");
    }

    private static async Task<JsonObject> ReadLineAsync(Process process, string what) =>
        JsonNode.Parse(await ReadLineAsync(process, what, json: true))!.AsObject();

    private static async Task<string> ReadLineAsync(Process process, string what, bool json)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            Assert.IsNotNull(line, $"imctl watch ended before {what}: {await process.StandardError.ReadToEndAsync()}");
            return line;
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            Assert.Fail($"imctl watch printed nothing for 20 s while waiting for {what} ({(json ? "JSON" : "text")})");
            return "";
        }
    }
}
