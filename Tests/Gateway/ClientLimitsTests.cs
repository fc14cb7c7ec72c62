using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Gateway;

/// <summary>What a logged-in client can make the server hold: no grain for a malformed id, and no unbounded reply.</summary>
[TestClass]
public sealed class ClientLimitsTests
{
    [TestMethod]
    public async Task DirectConversationWithAMalformedMemberIsRefusedWithoutActivatingAGrain()
    {
        var silo = await GatewayFixture.SiloAsync();
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var phone = await GatewayFixture.ConnectAsync(alice, "phone");
        var malformed = "Not-A-User-" + new string('x', 2000); // upper case and too long: breaks the id rules

        var reply = await phone.RpcAsync("conv.create", new JsonObject { ["kind"] = "direct", ["members"] = new JsonArray(malformed) });
        await GatewayFixture.CreateConversationAsync(phone, "direct", bob);

        Assert.IsFalse((bool)reply["ok"]!, reply.ToJsonString());
        Assert.AreEqual(ErrorCodes.InvalidId, (string?)reply["error"]!["code"]);
        await using var orleans = await OrleansClient.ConnectAsync(silo.GatewayPort);
        var management = orleans.Client.GetGrain<IManagementGrain>(0);
        Assert.IsNotNull(await management.GetActivationAddress(orleans.Client.GetGrain<IConversationGrain>(Ids.Direct(alice, bob))),
            "the valid conversation is active (so the check below can see activations)");
        Assert.IsNull(await management.GetActivationAddress(orleans.Client.GetGrain<IConversationGrain>(Ids.Direct(alice, malformed))),
            "no conversation grain was activated for the malformed id");
    }

    [TestMethod]
    public async Task SyncRepliesAreBoundedInBytesAndPagedWithAContinuation()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var bobTablet = await GatewayFixture.ConnectAsync(bob, "tablet");
        bobTablet.Acknowledge = false; // its cursor stays put, so sync has everything to return
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        // Non-ASCII is sent escaped (\u00E9: six bytes), so the bound must count what goes on the wire.
        var body = string.Concat(Enumerable.Repeat("héllo wörld ", 60));
        const int count = 30;
        for (var i = 1; i <= count; i++)
            await alicePhone.SendPacedAsync(conv, $"m{i}", body);
        await Eventually.TrueAsync(() => bobTablet.Messages(conv).Count == count, "bob's tablet got them all (unacknowledged)");

        var synced = new List<long>();
        var pages = 0;
        string? next = null;
        do
        {
            var args = new JsonObject { ["limit"] = 500 };
            if (next is not null)
                args["next"] = next;
            var (result, bytes) = await SyncPageAsync(bobTablet, args);
            pages++;
            Assert.IsLessThanOrEqualTo(GatewayFixture.MaxSyncBytes + 512, bytes, $"reply {pages} is bounded");
            synced.AddRange(result["messages"]!.AsArray().Where(m => (string?)m!["conv"] == conv).Select(m => (long)m!["seq"]!));
            next = (string?)result["next"];
        } while (next is not null && pages < 50);

        CollectionAssert.AreEqual(Enumerable.Range(1, count).Select(i => (long)i).ToArray(), synced.ToArray(), "every message once, in order");
        Assert.IsGreaterThan(1, pages, $"{count} messages of ~{body.Length * 2} bytes do not fit in one reply");
    }

    /// <summary>One sync call: its result and the size of the reply as sent.</summary>
    private static async Task<(JsonObject Result, int Bytes)> SyncPageAsync(MqttTestClient client, JsonObject args)
    {
        var reply = await client.RpcAsync("sync", args);
        Assert.IsTrue((bool?)reply["ok"] == true, reply.ToJsonString());
        var raw = client.All.Last(r => r.Topic == $"u/{client.User}/r" && (string?)r.Payload["rid"] == (string?)reply["rid"]).Raw;
        return (reply["result"]!.AsObject(), (int)raw.Payload.Length);
    }
}
