using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ImOrleans.Tests.Browser;

/// <summary>The web client (<c>Gateway/WebClient</c>) in a real browser against a real server process: two browser
/// contexts as two people, each signed up through the page, chatting over MQTT over WebSocket.</summary>
[TestClass]
public sealed class WebClientTests
{
    private static SiloProcess _server = null!;
    private static SystemChromium _chromium = null!;

    public TestContext TestContext { get; set; } = null!;

    [ClassInitialize]
    public static async Task StartAsync(TestContext _)
    {
        _chromium = await SystemChromium.LaunchAsync();
        _server = await SiloProcess.StartAsync(TempDirectory.Create("web"), "--Auth:RegistrationsPerMinute=1000000");
    }

    [ClassCleanup]
    public static async Task StopAsync()
    {
        await _server.DisposeAsync();
        await _chromium.DisposeAsync();
    }

    private static string Direct(string a, string b) => string.CompareOrdinal(a, b) < 0 ? $"d:{a}:{b}" : $"d:{b}:{a}";

    [TestMethod]
    public async Task TwoPeopleChatBothWaysSeeTypingAndTicksAndKeepTheirHistoryOverAReload()
    {
        // Plain names for the screenshot (docs/images/web-client.png); the other tests of this server use unique ones.
        var (a, b) = ("alice", "bob");
        var conv = Direct(a, b);
        await using var alice = await ChatPage.OpenAsync(_chromium.Browser, $"{_server.HttpBase}/", a);
        await using var bob = await ChatPage.OpenAsync(_chromium.Browser, $"{_server.HttpBase}/", b);
        await alice.SignUpAsync();
        await bob.SignUpAsync();

        await alice.OpenDirectAsync(b);
        await alice.SendAsync("Hi Bob! Lunch today?");
        await Expect(alice.Message("Hi Bob! Lunch today?")).ToHaveAttributeAsync("data-seq", "1");

        // Bob has not opened the conversation: it is listed, unread, with its last message; his device acknowledged it.
        var listed = bob.Conversation(conv);
        await Expect(listed).ToContainTextAsync("Hi Bob! Lunch today?");
        await Expect(listed.Locator(".unread")).ToHaveTextAsync("1");
        await Expect(alice.Tick("Hi Bob! Lunch today?")).ToHaveAttributeAsync("data-status", "delivered");

        await listed.ClickAsync();
        await Expect(bob.Message("Hi Bob! Lunch today?")).ToBeVisibleAsync();
        await Expect(listed.Locator(".unread")).ToHaveCountAsync(0);
        await Expect(alice.Tick("Hi Bob! Lunch today?")).ToHaveAttributeAsync("data-status", "read");

        // Typing reaches the other side while Bob types, and goes away with his message.
        var composer = bob.Page.GetByLabel("Write a message");
        await composer.PressSequentiallyAsync("Sure, 12:30 at the usual place");
        await Expect(alice.Page.Locator("#typing")).ToHaveTextAsync($"{b} is typing…");
        await composer.PressAsync("Enter");
        await Expect(alice.Message("Sure, 12:30 at the usual place")).ToHaveAttributeAsync("data-seq", "2");
        await Expect(alice.Page.Locator("#typing")).ToBeEmptyAsync();
        await Expect(bob.Tick("Sure, 12:30 at the usual place")).ToHaveAttributeAsync("data-status", "read");

        await alice.SendAsync("Perfect, see you there!");
        await bob.SendAsync("Bringing the new intern too");
        await Expect(bob.Message("Perfect, see you there!")).ToBeVisibleAsync();
        await Expect(alice.Message("Bringing the new intern too")).ToBeVisibleAsync();
        await bob.Page.GetByLabel("Write a message").PressSequentiallyAsync("Her name is");
        await Expect(alice.Page.Locator("#typing")).ToHaveTextAsync($"{b} is typing…");
        await Expect(alice.Tick("Perfect, see you there!")).ToHaveAttributeAsync("data-status", "read");
        await SaveScreenshotAsync(alice.Page, "web-client-chat.png");

        // A reload keeps the session (the token, not the password), and the history comes back from the server.
        await bob.Page.ReloadAsync();
        await bob.WaitOnlineAsync();
        await bob.Conversation(conv).ClickAsync();
        await Expect(bob.Message("Bringing the new intern too")).ToBeVisibleAsync();
        CollectionAssert.AreEqual(new long[] { 1, 2, 3, 4 }, await bob.SeqsAsync(), "every message once, in order");
        await Expect(bob.Tick("Sure, 12:30 at the usual place")).ToHaveAttributeAsync("data-status", "read");

        CollectionAssert.AreEqual(Array.Empty<string>(), alice.Problems.Concat(bob.Problems).ToArray());
    }

    [TestMethod]
    public async Task AfterAServerRestartTheClientsReconnectAndCatchUpWithoutDuplicatesOrGaps()
    {
        var dir = TempDirectory.Create("webrestart");
        // Access tokens that live 20 s: the client must refresh them to log in again after the restart.
        string[] settings = ["--Auth:RegistrationsPerMinute=1000000", "--Auth:AccessTokenLifetime=00:00:20"];
        SiloProcess? server = await SiloProcess.StartAsync(dir, settings);
        try
        {
            var (a, b) = (Unique.User("alice"), Unique.User("bob"));
            var conv = Direct(a, b);
            var url = $"{server.HttpBase}/";
            await using var alice = await ChatPage.OpenAsync(_chromium.Browser, url, a);
            await using var bob = await ChatPage.OpenAsync(_chromium.Browser, url, b);
            var refreshed = 0;
            alice.Page.Response += (_, response) =>
            {
                if (response.Ok && response.Url.EndsWith("/v1/auth/token", StringComparison.Ordinal) && response.Request.PostData?.Contains("grant_type=refresh_token") == true)
                    Interlocked.Increment(ref refreshed);
            };
            await alice.SignUpAsync();
            await bob.SignUpAsync();
            await alice.OpenDirectAsync(b);
            await alice.SendAsync("before the restart");
            await bob.Conversation(conv).ClickAsync();
            await Expect(bob.Message("before the restart")).ToBeVisibleAsync();

            await server.StopAsync();
            var stopped = server;
            server = null;
            await stopped.DisposeAsync();
            await Expect(alice.ConnectionState).Not.ToHaveAttributeAsync("data-state", "online");
            await Expect(bob.ConnectionState).Not.ToHaveAttributeAsync("data-state", "online");

            // Sent while offline: it waits in the outbox, shown as pending.
            await alice.SendAsync("typed while the server was down");
            await Expect(alice.Pending("typed while the server was down")).ToBeVisibleAsync();

            server = await SiloProcess.RestartAsync(stopped, settings);
            // Another of alice's devices sends while the browsers are still backing off.
            await using (var phone = await MqttTestClient.ConnectAsync(server.MqttPort, a, "phone", ChatPage.Password))
                Assert.IsTrue((await phone.SendAsync(conv, "phone-1", "sent from alice's phone meanwhile")).IsSuccess);

            await alice.WaitOnlineAsync(ChatPage.Slow);
            await bob.WaitOnlineAsync(ChatPage.Slow);
            foreach (var page in new[] { alice, bob })
            {
                await Expect(page.Message("typed while the server was down")).ToBeVisibleAsync(new() { Timeout = ChatPage.Slow });
                await Expect(page.Message("sent from alice's phone meanwhile")).ToBeVisibleAsync(new() { Timeout = ChatPage.Slow });
                CollectionAssert.AreEqual(new long[] { 1, 2, 3 }, await page.SeqsAsync(), $"{page.User}: every message once, no gap");
            }
            await Expect(alice.Page.Locator(".message[data-pending]")).ToHaveCountAsync(0);
            // The client refreshes at 80 % of the token's life (16 s here): while it stays connected, and after the restart.
            await Eventually.TrueAsync(() => Volatile.Read(ref refreshed) > 0, "alice's access token refreshed", 30_000);
            CollectionAssert.AreEqual(Array.Empty<string>(), alice.Problems.Concat(bob.Problems).ToArray());
        }
        finally
        {
            if (server is not null)
                await server.DisposeAsync();
        }
    }

    [TestMethod]
    public async Task GroupsContactsPresenceAndBlockingWorkFromThePage()
    {
        var (a, b) = (Unique.User("alice"), Unique.User("bob"));
        var carol = await HttpAccounts.RegisterAsync(_server, "carol");
        await using var alice = await ChatPage.OpenAsync(_chromium.Browser, $"{_server.HttpBase}/", a);
        await using var bob = await ChatPage.OpenAsync(_chromium.Browser, $"{_server.HttpBase}/", b);
        await alice.SignUpAsync();
        await bob.SignUpAsync();

        // A group with bob, then carol added.
        await alice.Page.GetByText("New group").ClickAsync();
        await alice.Page.GetByLabel("Title").FillAsync("Lunch club");
        await alice.Page.GetByLabel("Members (comma separated)").FillAsync(b);
        await alice.Page.GetByRole(AriaRole.Button, new() { Name = "Create group" }).ClickAsync();
        await Expect(alice.Page.Locator("#chat-title")).ToHaveTextAsync("Lunch club");
        await alice.Page.GetByLabel("Add member").FillAsync(carol);
        await alice.Page.GetByLabel("Add member").PressAsync("Enter");
        await Expect(alice.Page.Locator("#chat-subtitle")).ToContainTextAsync(carol);
        await alice.SendAsync("Welcome to the club");

        var group = bob.Page.Locator(".conversation", new() { HasText = "Lunch club" });
        await Expect(group).ToContainTextAsync($"{a}: Welcome to the club");
        await group.ClickAsync();
        await Expect(bob.Message("Welcome to the club").Locator(".from")).ToHaveTextAsync(a);

        // Contacts on both sides share presence; alice's status reaches bob.
        foreach (var (page, other) in new[] { (alice, b), (bob, a) })
        {
            await page.Page.GetByRole(AriaRole.Button, new() { Name = "Contacts", Exact = true }).ClickAsync();
            await page.Page.GetByLabel("Add contact").FillAsync(other);
            await page.Page.GetByLabel("Add contact").PressAsync("Enter");
        }
        var aliceAsSeenByBob = bob.Page.Locator($".contact[data-user='{a}']");
        await Expect(aliceAsSeenByBob).ToHaveAttributeAsync("data-status", "online");
        await alice.Page.GetByLabel("My status").SelectOptionAsync("busy");
        await alice.Page.GetByLabel("Status text").FillAsync("in a meeting");
        await alice.Page.GetByRole(AriaRole.Button, new() { Name = "Set", Exact = true }).ClickAsync();
        await Expect(aliceAsSeenByBob).ToHaveAttributeAsync("data-status", "busy");
        await Expect(aliceAsSeenByBob).ToContainTextAsync("busy — in a meeting");

        // Bob opens their direct chat from his contacts and sees her status there too.
        await aliceAsSeenByBob.GetByRole(AriaRole.Button, new() { Name = "Message", Exact = true }).ClickAsync();
        await Expect(bob.Page.Locator("#chat-title")).ToHaveTextAsync(a);
        await Expect(bob.Page.Locator("#chat-subtitle")).ToHaveTextAsync("busy — in a meeting");

        // Alice blocks bob: his next message in their direct chat is refused, and says so.
        await alice.Page.Locator($"#contacts .contact[data-user='{b}']").GetByRole(AriaRole.Button, new() { Name = "Block", Exact = true }).ClickAsync();
        await Expect(alice.Page.Locator($"#blocked .contact[data-user='{b}']")).ToBeVisibleAsync();
        await bob.SendAsync("are you there?");
        await Expect(bob.Page.Locator(".message[data-pending] .send-error")).ToContainTextAsync("Not sent");

        CollectionAssert.AreEqual(Array.Empty<string>(), alice.Problems.Concat(bob.Problems).ToArray());
    }

    [TestMethod]
    public async Task OnAPhoneSizedScreenTheListAndTheConversationTakeTurns()
    {
        var b = await HttpAccounts.RegisterAsync(_server, "bob");
        await using var alice = await ChatPage.OpenAsync(_chromium.Browser, $"{_server.HttpBase}/", Unique.User("alice"), width: 390, height: 844);
        await alice.SignUpAsync();
        await Expect(alice.Page.Locator("#sidebar")).ToBeVisibleAsync();
        await Expect(alice.Page.Locator("#chat")).ToBeHiddenAsync();

        await alice.OpenDirectAsync(b);
        await Expect(alice.Page.Locator("#sidebar")).ToBeHiddenAsync();
        await alice.SendAsync("hello from a phone");
        await Expect(alice.Message("hello from a phone")).ToBeVisibleAsync();
        Assert.IsLessThanOrEqualTo(390, await alice.Page.EvaluateAsync<int>("document.documentElement.scrollWidth"), "nothing wider than the screen");

        await alice.Page.GetByRole(AriaRole.Button, new() { Name = "Back to chats" }).ClickAsync();
        await Expect(alice.Page.Locator("#sidebar")).ToBeVisibleAsync();
        await Expect(alice.Page.Locator(".conversation")).ToContainTextAsync("hello from a phone");
    }

    [TestMethod]
    public async Task OlderMessagesPageInAsTheReaderScrollsUp()
    {
        var a = Unique.User("alice");
        await using var alice = await ChatPage.OpenAsync(_chromium.Browser, $"{_server.HttpBase}/", a);
        await alice.SignUpAsync();
        var b = await HttpAccounts.RegisterAsync(_server, "bob");
        await using var bob = await MqttTestClient.ConnectAsync(_server.MqttPort, b, "phone", Chat.Password);
        var conv = (string)(await bob.CallAsync("conv.create", new JsonObject { ["kind"] = "direct", ["members"] = new JsonArray(a) }))!["conv"]!;
        for (var i = 1; i <= 70; i++)
            await bob.SendPacedAsync(conv, $"m{i}", $"message {i}");

        await Expect(alice.Conversation(conv).Locator(".unread")).ToHaveTextAsync("70");
        await alice.Conversation(conv).ClickAsync();
        await Expect(alice.Message("message 70")).ToBeVisibleAsync();
        CollectionAssert.AreEqual(Seqs(21, 70), await alice.SeqsAsync(), "the newest page only");

        await alice.Page.Locator("#messages").EvaluateAsync("list => { list.scrollTop = 0; }");
        await Expect(alice.Page.Locator(".history-start")).ToBeVisibleAsync();
        CollectionAssert.AreEqual(Seqs(1, 70), await alice.SeqsAsync(), "the older page in front, nothing twice");
        await Expect(alice.Conversation(conv).Locator(".unread")).ToHaveCountAsync(0);
        CollectionAssert.AreEqual(Array.Empty<string>(), alice.Problems.ToArray(), "no page errors or CSP refusals");
    }

    [TestMethod]
    public async Task EditsDeletesAndReactionsFoldOntoTheMessagesTheyName()
    {
        var a = Unique.User("alice");
        await using var alice = await ChatPage.OpenAsync(_chromium.Browser, $"{_server.HttpBase}/", a);
        await alice.SignUpAsync();
        var b = await HttpAccounts.RegisterAsync(_server, "bob");
        await using var bob = await MqttTestClient.ConnectAsync(_server.MqttPort, b, "phone", Chat.Password);
        var conv = (string)(await bob.CallAsync("conv.create", new JsonObject { ["kind"] = "direct", ["members"] = new JsonArray(a) }))!["conv"]!;
        await bob.SendAsync(conv, "m1", "first draft");
        await bob.SendAsync(conv, "m2", "said too soon");
        await alice.Conversation(conv).ClickAsync();
        await Expect(alice.Message("said too soon")).ToBeVisibleAsync();

        Assert.IsTrue((await bob.PublishAsync($"c/{conv}/m", new { id = "e1", kind = "edit", target = 1, body = "final text" })).IsSuccess);
        Assert.IsTrue((await bob.PublishAsync($"c/{conv}/m", new { id = "e2", kind = "delete", target = 2 })).IsSuccess);
        Assert.IsTrue((await bob.PublishAsync($"c/{conv}/m", new { id = "e3", kind = "react", target = 1, emoji = "👍" })).IsSuccess);

        await Expect(alice.Message("final text").Locator(".edited")).ToBeVisibleAsync();
        await Expect(alice.Message("final text").Locator(".reactions")).ToHaveTextAsync("👍 1");
        await Expect(alice.Message("Message deleted")).ToBeVisibleAsync();
        await Expect(alice.Message("first draft")).ToHaveCountAsync(0);
        await Expect(alice.Message("said too soon")).ToHaveCountAsync(0);
        CollectionAssert.AreEqual(new long[] { 1, 2 }, await alice.SeqsAsync(), "entries are folded, not shown");
        CollectionAssert.AreEqual(Array.Empty<string>(), alice.Problems.ToArray(), "no page errors or CSP refusals");
    }

    [TestMethod]
    public async Task LoggingOutForgetsTheSessionAndSigningInAgainBringsTheChatsBack()
    {
        var b = await HttpAccounts.RegisterAsync(_server, "bob");
        await using var alice = await ChatPage.OpenAsync(_chromium.Browser, $"{_server.HttpBase}/", Unique.User("alice"));
        await alice.SignUpAsync();
        await alice.OpenDirectAsync(b);
        await alice.SendAsync("before logging out");
        await Expect(alice.Message("before logging out")).ToBeVisibleAsync();

        await alice.Page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
        await Expect(alice.Page.GetByLabel("User name")).ToBeFocusedAsync();
        await alice.Page.ReloadAsync();
        await Expect(alice.Page.GetByLabel("User name")).ToBeVisibleAsync(new() { Timeout = 5_000 });
        await Expect(alice.Page.Locator("#app")).ToBeHiddenAsync();

        await alice.SignInAsync();
        await Expect(alice.Page.Locator(".conversation")).ToContainTextAsync("You: before logging out");
        CollectionAssert.AreEqual(Array.Empty<string>(), alice.Problems.ToArray(), "no page errors or CSP refusals");
    }

    private static long[] Seqs(int from, int to) => [.. Enumerable.Range(from, to - from + 1).Select(i => (long)i)];

    [TestMethod]
    public async Task TheClientIsServedWithItsContentTypesAndAStrictContentSecurityPolicy()
    {
        var page = await GatewayFixture.Http.GetAsync($"{_server.HttpBase}/");
        Assert.AreEqual(HttpStatusCode.OK, page.StatusCode);
        Assert.AreEqual("text/html", page.Content.Headers.ContentType?.MediaType);
        var csp = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        StringAssert.Contains(csp, "script-src 'self'");
        StringAssert.Contains(csp, "default-src 'none'");
        StringAssert.Contains(csp, "frame-ancestors 'none'");
        Assert.AreEqual("nosniff", string.Join("", page.Headers.GetValues("X-Content-Type-Options")));

        foreach (var (path, type) in new[] { ("js/main.js", "text/javascript"), ("vendor/mqtt.min.js", "text/javascript"), ("app.css", "text/css"), ("icon.svg", "image/svg+xml") })
        {
            var file = await GatewayFixture.Http.GetAsync($"{_server.HttpBase}/{path}");
            Assert.AreEqual(HttpStatusCode.OK, file.StatusCode, path);
            Assert.AreEqual(type, file.Content.Headers.ContentType?.MediaType, path);
        }
        StringAssert.Contains(await GatewayFixture.Http.GetStringAsync($"{_server.HttpBase}/vendor/mqtt.LICENSE.md"), "MIT License");
        Assert.AreEqual(HttpStatusCode.NotFound, (await GatewayFixture.Http.GetAsync($"{_server.HttpBase}/js/nothing.js")).StatusCode);
    }

    [TestMethod]
    public async Task TheClientMovesToItsConfiguredPathOrIsTurnedOff()
    {
        await using (var moved = await SiloProcess.StartAsync(TempDirectory.Create("webpath"), "--Gateway:WebClient:Path=/chat"))
        {
            using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
            Assert.AreEqual(HttpStatusCode.NotFound, (await noRedirects.GetAsync($"{moved.HttpBase}/")).StatusCode, "nothing at /");
            var redirect = await noRedirects.GetAsync($"{moved.HttpBase}/chat");
            StringAssert.EndsWith(redirect.Headers.Location?.OriginalString, $"{moved.HttpPort}/chat/", "/chat becomes /chat/ so relative URLs resolve");
            StringAssert.Contains(await noRedirects.GetStringAsync($"{moved.HttpBase}/chat/"), "ImOrleans chat");
            Assert.AreEqual(HttpStatusCode.OK, (await noRedirects.GetAsync($"{moved.HttpBase}/chat/js/main.js")).StatusCode);
        }
        await using (var off = await SiloProcess.StartAsync(TempDirectory.Create("weboff"), "--Gateway:WebClient:Enabled=false"))
        {
            Assert.AreEqual(HttpStatusCode.NotFound, (await GatewayFixture.Http.GetAsync($"{off.HttpBase}/")).StatusCode);
            Assert.AreEqual(HttpStatusCode.NotFound, (await GatewayFixture.Http.GetAsync($"{off.HttpBase}/js/main.js")).StatusCode);
        }
    }

    [TestMethod]
    public async Task ClusterModeServesNoWebClientUnlessEnabled()
    {
        var db = await PostgresServer.CreateDatabaseAsync("webcluster");
        await using var server = await SiloProcess.StartAsync(TempDirectory.Create("webcluster"),
            "--Storage:Provider=PostgreSQL", $"--Storage:PostgreSQL={db}", $"--Auth:SigningKey={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}");
        Assert.AreEqual(HttpStatusCode.NotFound, (await GatewayFixture.Http.GetAsync($"{server.HttpBase}/")).StatusCode);
    }

    /// <summary>Saves a screenshot to the test's results folder and attaches it to the result.</summary>
    private async Task SaveScreenshotAsync(IPage page, string name)
    {
        var folder = TestContext.TestResultsDirectory ?? TestContext.TestRunResultsDirectory ?? Path.GetTempPath();
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        TestContext.AddResultFile(path);
        TestContext.WriteLine($"Screenshot: {path}");
    }
}
