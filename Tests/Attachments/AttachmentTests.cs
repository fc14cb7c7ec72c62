using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;
using MQTTnet.Protocol;

namespace ImOrleans.Tests.Attachments;

/// <summary>Uploads and downloads over the gateway's HTTP port, and messages that carry them over MQTT, against a real
/// embedded server with small attachment limits.</summary>
[TestClass]
public sealed class AttachmentTests
{
    private const int MaxBytes = 2000;
    private static readonly TimeSpan UnreferencedLifetime = TimeSpan.FromSeconds(4);
    private static SiloProcess _server = null!;
    private static readonly HttpClient Http = new();

    [ClassInitialize]
    public static async Task StartAsync(TestContext _)
    {
        var data = TempDirectory.Create("att");
        Directory.CreateDirectory(data);
        _server = await SiloProcess.StartAsync(data, $"--Attachments:MaxBytes={MaxBytes}",
            "--Attachments:AllowedTypes:0=image/*", "--Attachments:AllowedTypes:1=text/plain",
            $"--Attachments:UnreferencedLifetime={UnreferencedLifetime}", "--Attachments:CleanupInterval=00:00:01",
            "--Auth:RegistrationsPerMinute=1000000", "--Auth:FailedLoginsPerMinute=1000000");
    }

    [ClassCleanup]
    public static async Task StopAsync() => await _server.DisposeAsync();

    [TestMethod]
    public async Task AnUploadAnswersItsDescriptorWithTheImageDimensionsFromItsHeader()
    {
        var alice = await HttpAccounts.RegisterAsync(_server, "att");
        var token = await HttpAccounts.TokenAsync(_server, alice);

        var (status, png) = await UploadAsync(token, Png(640, 480), "image/png", "../holiday.png");
        var (_, gif) = await UploadAsync(token, Gif(12, 34), "image/gif", "anim.gif");
        var (_, text) = await UploadAsync(token, "hello"u8.ToArray(), "text/plain; charset=utf-8", "note.txt");

        Assert.AreEqual(HttpStatusCode.Created, status, png.ToJsonString());
        StringAssert.StartsWith((string)png["id"]!, "a-");
        Assert.AreEqual("holiday.png", (string?)png["name"], "only the file name is kept, not a path");
        Assert.AreEqual("image/png", (string?)png["type"]);
        Assert.AreEqual(Png(640, 480).Length, (long)png["size"]!);
        Assert.AreEqual(640, (int)png["width"]!);
        Assert.AreEqual(480, (int)png["height"]!);
        Assert.AreEqual(12, (int)gif["width"]!);
        Assert.AreEqual(34, (int)gif["height"]!);
        Assert.AreEqual("text/plain", (string?)text["type"]);
        Assert.IsNull(text["width"], "no dimensions for what is not an image");
    }

    [TestMethod]
    public async Task UploadsAndDownloadsWithoutAValidTokenAreRefusedWith401()
    {
        var alice = await HttpAccounts.RegisterAsync(_server, "att");
        var (_, uploaded) = await UploadAsync(await HttpAccounts.TokenAsync(_server, alice), Png(1, 1), "image/png", "a.png");

        using var noToken = new HttpRequestMessage(HttpMethod.Post, $"{_server.HttpBase}/v1/attachments") { Content = Bytes(Png(1, 1), "image/png") };
        var (badStatus, _) = await UploadAsync("not-a-token", Png(1, 1), "image/png", "a.png");
        var anonymousDownload = await Http.GetAsync($"{_server.HttpBase}/v1/attachments/{uploaded["id"]}");

        Assert.AreEqual(HttpStatusCode.Unauthorized, (await Http.SendAsync(noToken)).StatusCode);
        Assert.AreEqual(HttpStatusCode.Unauthorized, badStatus);
        Assert.AreEqual(HttpStatusCode.Unauthorized, anonymousDownload.StatusCode);
        Assert.AreEqual("Bearer", anonymousDownload.Headers.WwwAuthenticate.Single().Scheme);
    }

    [TestMethod]
    public async Task AnUploadOverTheLimitIsRefusedWith413WhetherOrNotItSaysItsLength()
    {
        var alice = await HttpAccounts.RegisterAsync(_server, "att");
        var token = await HttpAccounts.TokenAsync(_server, alice);

        var (declared, reason) = await UploadAsync(token, new byte[MaxBytes + 1], "text/plain", "big.txt");
        // Chunked: no Content-Length, so only counting the bytes as they stream in finds it.
        using var chunked = new HttpRequestMessage(HttpMethod.Post, $"{_server.HttpBase}/v1/attachments?name=big.txt")
        {
            Content = new StreamContent(new MemoryStream(new byte[MaxBytes * 3])),
        };
        chunked.Content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        chunked.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        chunked.Headers.TransferEncodingChunked = true;
        var streamed = await Http.SendAsync(chunked);
        var (exact, _) = await UploadAsync(token, new byte[MaxBytes], "text/plain", "exact.txt");

        Assert.AreEqual(HttpStatusCode.RequestEntityTooLarge, declared);
        StringAssert.Contains((string?)reason["message"], MaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.AreEqual(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        Assert.AreEqual(HttpStatusCode.Created, exact, "the limit itself is allowed");
    }

    [TestMethod]
    public async Task AContentTypeThatIsNotAllowedIsRefusedWith415()
    {
        var alice = await HttpAccounts.RegisterAsync(_server, "att");
        var token = await HttpAccounts.TokenAsync(_server, alice);

        var (status, reason) = await UploadAsync(token, [1, 2, 3], "application/x-msdownload", "setup.exe");

        Assert.AreEqual(HttpStatusCode.UnsupportedMediaType, status);
        StringAssert.Contains((string?)reason["message"], "image/*");
    }

    [TestMethod]
    public async Task AMessageCarriesItsAttachmentsToTheMembersWhoMayThenDownloadThem()
    {
        var (alice, bob, carol) = (await HttpAccounts.RegisterAsync(_server, "att"), await HttpAccounts.RegisterAsync(_server, "att"),
            await HttpAccounts.RegisterAsync(_server, "att"));
        await using var alicePhone = await ConnectAsync(alice);
        await using var bobPhone = await ConnectAsync(bob);
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        // Uploaded only now: this server removes an upload no message took within 4 s, and connecting took longer once.
        var content = Png(3, 2);
        var (_, uploaded) = await UploadAsync(await HttpAccounts.TokenAsync(_server, alice), content, "image/png", "pic.png");
        var id = (string)uploaded["id"]!;

        var puback = await alicePhone.PublishAsync($"c/{conv}/m", new { id = "m1", body = "look", attachments = new[] { id } });
        // Before waiting for bob: a refused send would otherwise show only as a message that never came.
        Assert.IsTrue(puback.IsSuccess, $"{puback.ReasonCode} {puback.ReasonString}");
        var delivered = await bobPhone.WaitForAsync("m", m => (string?)m["id"] == "m1", "the message with an attachment");
        var history = await bobPhone.CallAsync("history", new JsonObject { ["conv"] = conv });

        var carried = delivered["attachments"]!.AsArray().Single()!;
        Assert.AreEqual(id, (string?)carried["id"]);
        Assert.AreEqual("pic.png", (string?)carried["name"]);
        Assert.AreEqual("image/png", (string?)carried["type"]);
        Assert.AreEqual(content.Length, (long)carried["size"]!);
        Assert.AreEqual(3, (int)carried["width"]!);
        Assert.AreEqual(2, (int)carried["height"]!);
        Assert.AreEqual(id, (string?)history!["messages"]![0]!["attachments"]![0]!["id"], "history serves the descriptors too");
        using (var api = Grpc.Api.ConnectTo(_server))
        {
            var viaGrpc = (await api.Messages.GetHistoryAsync(new() { Conversation = conv, AsUser = bob })).Messages.Single().Attachments.Single();
            Assert.AreEqual((id, "pic.png", "image/png", (long)content.Length, 3, 2),
                (viaGrpc.Id, viaGrpc.Name, viaGrpc.Type, viaGrpc.Size, viaGrpc.Width, viaGrpc.Height), "and the gRPC API");
        }

        var download = await DownloadAsync(await HttpAccounts.TokenAsync(_server, bob), id);
        Assert.AreEqual(HttpStatusCode.OK, download.StatusCode);
        CollectionAssert.AreEqual(content, await download.Content.ReadAsByteArrayAsync());
        Assert.AreEqual("image/png", download.Content.Headers.ContentType!.MediaType);
        Assert.AreEqual("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());

        // Carol is in no conversation that names it: 404, as for an id that does not exist.
        Assert.AreEqual(HttpStatusCode.NotFound, (await DownloadAsync(await HttpAccounts.TokenAsync(_server, carol), id)).StatusCode);
        Assert.AreEqual(HttpStatusCode.NotFound, (await DownloadAsync(await HttpAccounts.TokenAsync(_server, carol), "a-" + new string('0', 32))).StatusCode);
    }

    [TestMethod]
    public async Task AnAttachmentOfAMessageDeletedForEveryoneIsNoLongerServedToTheMembers()
    {
        var (alice, bob) = (await HttpAccounts.RegisterAsync(_server, "att"), await HttpAccounts.RegisterAsync(_server, "att"));
        var (_, uploaded) = await UploadAsync(await HttpAccounts.TokenAsync(_server, alice), Png(2, 2), "image/png", "oops.png");
        var id = (string)uploaded["id"]!;
        await using var alicePhone = await ConnectAsync(alice);
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        var sent = await alicePhone.PublishAsync($"c/{conv}/m", new { id = "m1", body = "wrong picture", attachments = new[] { id } });
        Assert.IsTrue(sent.IsSuccess, sent.ReasonString);
        var bobToken = await HttpAccounts.TokenAsync(_server, bob);
        Assert.AreEqual(HttpStatusCode.OK, (await DownloadAsync(bobToken, id)).StatusCode, "served while the message names it");

        var deleted = await alicePhone.PublishAsync($"c/{conv}/m", new { id = "d1", kind = "delete", target = 1 });

        Assert.IsTrue(deleted.IsSuccess, deleted.ReasonString);
        Assert.AreEqual(HttpStatusCode.NotFound, (await DownloadAsync(bobToken, id)).StatusCode, "no message names it any more");
    }

    [TestMethod]
    public async Task DownloadingAnAttachmentOfAnotherConversationIs404()
    {
        var (alice, bob, carol) = (await HttpAccounts.RegisterAsync(_server, "att"), await HttpAccounts.RegisterAsync(_server, "att"),
            await HttpAccounts.RegisterAsync(_server, "att"));
        var (_, uploaded) = await UploadAsync(await HttpAccounts.TokenAsync(_server, alice), Png(1, 1), "image/png", "secret.png");
        await using var alicePhone = await ConnectAsync(alice);
        await using var carolPhone = await ConnectAsync(carol);
        var aliceAndBob = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        // Carol shares a conversation with Alice, but not the one the attachment was sent in.
        await GatewayFixture.CreateConversationAsync(carolPhone, "direct", alice);
        Assert.IsTrue((await alicePhone.PublishAsync($"c/{aliceAndBob}/m", new { id = "m1", body = "", attachments = new[] { uploaded["id"] } })).IsSuccess);

        var response = await DownloadAsync(await HttpAccounts.TokenAsync(_server, carol), (string)uploaded["id"]!);

        Assert.AreEqual(HttpStatusCode.NotFound, response.StatusCode);
    }

    [TestMethod]
    public async Task SendingAnAttachmentSomeoneElseUploadedIsForbidden()
    {
        var (alice, bob) = (await HttpAccounts.RegisterAsync(_server, "att"), await HttpAccounts.RegisterAsync(_server, "att"));
        var (_, alices) = await UploadAsync(await HttpAccounts.TokenAsync(_server, alice), Png(1, 1), "image/png", "hers.png");
        await using var bobPhone = await ConnectAsync(bob);
        var conv = await GatewayFixture.CreateConversationAsync(bobPhone, "direct", alice);

        var puback = await bobPhone.PublishAsync($"c/{conv}/m", new { id = "stolen", body = "mine now", attachments = new[] { alices["id"] } });
        var error = await bobPhone.WaitForAsync("e", e => (string?)e["type"] == "error" && (string?)e["ref"] == "stolen", "the error event");
        var unknown = await bobPhone.PublishAsync($"c/{conv}/m", new { id = "made-up", body = "", attachments = new[] { "a-" + new string('1', 32) } });
        var history = await bobPhone.CallAsync("history", new JsonObject { ["conv"] = conv });

        Assert.AreEqual(MqttPubAckReasonCode.NotAuthorized, (MqttPubAckReasonCode)puback.ReasonCode);
        Assert.AreEqual("forbidden", (string?)error["code"]);
        Assert.IsFalse(unknown.IsSuccess, "an id that does not exist is refused the same way");
        Assert.IsEmpty(history!["messages"]!.AsArray(), "nothing was stored");
        Assert.AreEqual(HttpStatusCode.NotFound, (await DownloadAsync(await HttpAccounts.TokenAsync(_server, bob), (string)alices["id"]!)).StatusCode,
            "the refused send did not give Bob access");
    }

    [TestMethod]
    public async Task UploadsNoMessageNamesAreDeletedAfterTheirLifetimeAndNamedOnesStay()
    {
        var (alice, bob) = (await HttpAccounts.RegisterAsync(_server, "att"), await HttpAccounts.RegisterAsync(_server, "att"));
        var token = await HttpAccounts.TokenAsync(_server, alice);
        var (_, orphan) = await UploadAsync(token, Png(1, 1), "image/png", "orphan.png");
        var (_, sent) = await UploadAsync(token, Png(1, 1), "image/png", "sent.png");
        await using var alicePhone = await ConnectAsync(alice);
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        Assert.IsTrue((await alicePhone.PublishAsync($"c/{conv}/m", new { id = "m1", body = "", attachments = new[] { sent["id"] } })).IsSuccess);
        Assert.AreEqual(HttpStatusCode.OK, (await DownloadAsync(token, (string)orphan["id"]!)).StatusCode, "the uploader reads its own upload");

        var orphanFile = Path.Combine(_server.DataDirectory, "attachments", (string)orphan["id"]!);
        await Eventually.TrueAsync(async () => (await DownloadAsync(token, (string)orphan["id"]!)).StatusCode == HttpStatusCode.NotFound,
            "the unreferenced upload to be swept", timeoutMs: 30_000);
        // The sweep takes the description away first (downloads answer 404 from then on), the bytes a moment later.
        await Eventually.TrueAsync(() => !File.Exists(orphanFile), "its bytes are gone from disk", 10_000);

        Assert.AreEqual(HttpStatusCode.OK, (await DownloadAsync(token, (string)sent["id"]!)).StatusCode, "an upload a message names stays");
        Assert.IsFalse(File.Exists(orphanFile), "its bytes are gone from disk");
    }

    private static async Task<MqttTestClient> ConnectAsync(string user)
    {
        var client = await MqttTestClient.ConnectAsync(_server.MqttPort, user, "phone", Chat.Password);
        Assert.AreEqual(MQTTnet.MqttClientConnectResultCode.Success, client.ConnectResult.ResultCode);
        return client;
    }

    internal static async Task<(HttpStatusCode Status, JsonObject Body)> UploadAsync(string token, byte[] content, string type, string name)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{_server.HttpBase}/v1/attachments?name={Uri.EscapeDataString(name)}")
        {
            Content = Bytes(content, type),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonObject>() ?? []);
    }

    private static async Task<HttpResponseMessage> DownloadAsync(string token, string id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{_server.HttpBase}/v1/attachments/{id}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Http.SendAsync(request);
    }

    private static ByteArrayContent Bytes(byte[] content, string type)
    {
        var c = new ByteArrayContent(content);
        c.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        return c;
    }

    /// <summary>A PNG signature and IHDR chunk (enough for the header; not a decodable image).</summary>
    internal static byte[] Png(int width, int height)
    {
        var b = new byte[33];
        new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R' }.CopyTo(b, 0);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(16), width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(20), height);
        return b;
    }

    internal static byte[] Gif(int width, int height)
    {
        var b = new byte[13];
        "GIF89a"u8.CopyTo(b);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(6), (ushort)width);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(8), (ushort)height);
        return b;
    }
}
