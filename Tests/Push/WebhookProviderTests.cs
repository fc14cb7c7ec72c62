using System.Security.Cryptography;
using ImOrleans.Grains.Push;
using ImOrleans.Grains.Push.Providers;
using Microsoft.AspNetCore.Http;
using StandardWebhooks;

namespace ImOrleans.Tests.Push;

/// <summary>The webhook provider against a fake receiver that checks signatures with the StandardWebhooks library.</summary>
[TestClass]
public sealed class WebhookProviderTests
{
    private static readonly string Secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static async Task<(FakePushServer, PushTestProviders)> StartAsync()
    {
        var fake = await FakePushServer.StartAsync();
        return (fake, new PushTestProviders(new() { ["Push:Webhook:Url"] = $"{fake.BaseUrl}/hook", ["Push:Webhook:Secret"] = Secret }));
    }

    [TestMethod]
    public async Task TheAlertIsASignedPostThatAStandardWebhooksReceiverAccepts()
    {
        var (fake, providers) = await StartAsync();
        await using var _ = fake;
        using var __ = providers;

        Assert.AreEqual(PushStatus.Sent, (await providers.Get<WebhookProvider>().SendAsync(PushTestProviders.Notification("webhook", "gw-token-1"), default)).Status);

        var r = fake.Requests.Single();
        var headers = new HeaderDictionary();
        foreach (var name in new[] { "webhook-id", "webhook-timestamp", "webhook-signature" })
            headers[name] = r.Header(name);
        new StandardWebhook(Secret).Verify(r.Body, headers); // throws when the signature does not match
        var body = PushTestProviders.Json(r.Body);
        Assert.AreEqual("gw-token-1", (string?)body["token"]);
        Assert.AreEqual("bob", (string?)body["user"]);
        Assert.AreEqual("phone", (string?)body["device"]);
        Assert.AreEqual("d:alice:bob", (string?)body["conv"]);
        Assert.AreEqual(7, (long)body["seq"]!);
        Assert.AreEqual(PushGrain.NoPreview, (string?)body["body"]);
    }

    [TestMethod]
    public async Task ATamperedBodyFailsTheReceiversCheck()
    {
        var (fake, providers) = await StartAsync();
        await using var _ = fake;
        using var __ = providers;
        await providers.Get<WebhookProvider>().SendAsync(PushTestProviders.Notification("webhook", "gw-token-1"), default);

        var r = fake.Requests.Single();
        var headers = new HeaderDictionary();
        foreach (var name in new[] { "webhook-id", "webhook-timestamp", "webhook-signature" })
            headers[name] = r.Header(name);
        Assert.ThrowsExactly<StandardWebhooks.Diagnostics.WebhookVerificationException>(() => new StandardWebhook(Secret).Verify(r.Body.Replace("bob", "eve"), headers));
    }

    [TestMethod]
    public async Task GoneIsADeadTokenAndServerErrorsAreRetried()
    {
        var (fake, providers) = await StartAsync();
        await using var _ = fake;
        using var __ = providers;
        var hook = providers.Get<WebhookProvider>();
        fake.Respond = _ => new(410, "");
        Assert.AreEqual(PushStatus.TokenDead, (await hook.SendAsync(PushTestProviders.Notification("webhook", "t"), default)).Status);

        var calls = 0;
        fake.Respond = _ => Interlocked.Increment(ref calls) == 1 ? new(503, "", new Dictionary<string, string> { ["Retry-After"] = "1" }) : new(204, "");
        Assert.AreEqual(PushStatus.Sent, (await PushTestProviders.Queue(hook).DeliverAsync(hook, PushTestProviders.Notification("webhook", "t"), default)).Status);
        var attempts = fake.Requests.Skip(1).ToList();
        Assert.IsGreaterThanOrEqualTo(0.95, (attempts[1].At - attempts[0].At).TotalSeconds);
    }
}
