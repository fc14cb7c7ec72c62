using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Attachments;

/// <summary>Cluster mode: attachments live in PostgreSQL, so one gateway serves what another took in.</summary>
[TestClass]
public sealed class ClusterAttachmentTests
{
    [TestMethod]
    public async Task AnAttachmentUploadedThroughOneGatewayIsDownloadedThroughAnother()
    {
        var db = await PostgresServer.CreateDatabaseAsync("clusteratt");
        string[] postgres = ["--Storage:Provider=PostgreSQL", $"--Storage:PostgreSQL={db}"];
        string[] gatewayArgs = [.. postgres, $"--Auth:SigningKey={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}",
            "--Gateway:OpenRegistration=true", "--Gateway:PasswordLogin=true"];
        await using var silo = await SiloProcess.StartAsync(TempDirectory.Create("clusteratt"), [.. postgres, "--Gateway:Enabled=false"]);
        await using var gw1 = await SiloProcess.StartGatewayAsync(TempDirectory.Create("clusteratt"), gatewayArgs);
        await using var gw2 = await SiloProcess.StartGatewayAsync(TempDirectory.Create("clusteratt"), gatewayArgs);
        var (alice, bob, carol) = (Unique.User("ca"), Unique.User("cb"), Unique.User("cc"));
        foreach (var u in new[] { alice, bob, carol })
            Assert.IsTrue((await GatewayFixture.Http.PostAsJsonAsync($"{gw1.HttpBase}/v1/auth/register", new { user = u, password = Chat.Password })).IsSuccessStatusCode);
        var content = new byte[700_000]; // several bytea chunks
        RandomNumberGenerator.Fill(content);
        AttachmentTests.Png(1024, 768).CopyTo(content, 0);

        using var upload = new HttpRequestMessage(HttpMethod.Post, $"{gw1.HttpBase}/v1/attachments?name=big.png") { Content = new ByteArrayContent(content) };
        upload.Content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        upload.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await HttpAccounts.TokenAsync(gw1, alice));
        var uploaded = await (await GatewayFixture.Http.SendAsync(upload)).Content.ReadFromJsonAsync<JsonObject>();
        var id = (string)uploaded!["id"]!;
        await using var alicePhone = await MqttTestClient.ConnectAsync(gw1.MqttPort, alice, "phone", Chat.Password);
        await using var bobPhone = await MqttTestClient.ConnectAsync(gw2.MqttPort, bob, "phone", Chat.Password);
        var conv = (string)(await alicePhone.CallAsync("conv.create", new JsonObject { ["kind"] = "direct", ["members"] = new JsonArray(bob) }))!["conv"]!;
        Assert.IsTrue((await alicePhone.PublishAsync($"c/{conv}/m", new { id = "m1", body = "", attachments = new[] { id } })).IsSuccess);
        var delivered = await bobPhone.WaitForAsync("m", m => (string?)m["id"] == "m1", "bob on gw2 gets the message");

        var download = await GetAsync(gw2, await HttpAccounts.TokenAsync(gw2, bob), id);
        var stranger = await GetAsync(gw2, await HttpAccounts.TokenAsync(gw2, carol), id);

        Assert.AreEqual(1024, (int)delivered["attachments"]![0]!["width"]!);
        Assert.AreEqual(HttpStatusCode.OK, download.StatusCode);
        CollectionAssert.AreEqual(content, await download.Content.ReadAsByteArrayAsync());
        Assert.AreEqual(HttpStatusCode.NotFound, stranger.StatusCode);
    }

    private static async Task<HttpResponseMessage> GetAsync(SiloProcess gateway, string token, string id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{gateway.HttpBase}/v1/attachments/{id}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await GatewayFixture.Http.SendAsync(request);
    }
}
