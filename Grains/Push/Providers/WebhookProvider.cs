using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ImOrleans.Models;
using Microsoft.Extensions.Options;

namespace ImOrleans.Grains.Push.Providers;

/// <summary><c>Push:Webhook</c>. On when a URL and a secret are given.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Push:Webhook";

    /// <summary>Where alerts are posted (the operator's own push gateway).</summary>
    public string? Url { get; set; }

    /// <summary>Signing secret, <c>whsec_</c> + base64 of 24–64 random bytes (Standard Webhooks).</summary>
    public string? Secret { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Url) && !string.IsNullOrWhiteSpace(Secret);

    public byte[] SecretBytes() => Convert.FromBase64String(Secret!.StartsWith("whsec_", StringComparison.Ordinal) ? Secret[6..] : Secret);
}

/// <summary>A signed JSON POST per alert to the operator's URL, signed as Standard Webhooks specifies
/// (<c>webhook-id</c>, <c>webhook-timestamp</c>, <c>webhook-signature: v1,base64(HMAC-SHA256(id.timestamp.body))</c>).
/// 2xx: sent; 410: the token is dead; 429/5xx: retried.</summary>
public sealed class WebhookProvider(IOptions<WebhookOptions> options, IHttpClientFactory http, TimeProvider? time = null) : IPushProvider
{
    public const string ClientName = "push-webhook";

    private readonly WebhookOptions _options = options.Value;
    private readonly byte[] _key = options.Value.SecretBytes();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public string Name => PushProviders.Webhook;

    public async Task<PushResult> SendAsync(PushNotification n, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["type"] = "message",
            ["user"] = n.User,
            ["device"] = n.Device,
            ["token"] = n.Target.Token,
            ["title"] = n.Title,
            ["body"] = n.Body,
            ["conv"] = n.Conversation,
            ["seq"] = n.Seq,
            ["from"] = n.From,
            ["badge"] = n.Badge,
            ["collapseId"] = n.CollapseId,
        }.ToJsonString();
        var id = $"msg_{Guid.NewGuid():N}";
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = Convert.ToBase64String(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));
        using var request = new HttpRequestMessage(HttpMethod.Post, _options.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.Add("webhook-signature", $"v1,{signature}");
        using var response = await http.CreateClient(ClientName).SendAsync(request, ct);
        return response.StatusCode == HttpStatusCode.Gone ? PushResult.Dead("http 410") : PushHttp.Classify(response, _time);
    }
}
