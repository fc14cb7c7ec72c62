using System.Net;
using System.Text.Json.Nodes;
using ImOrleans.Models;
using Lib.Net.Http.WebPush;
using Lib.Net.Http.WebPush.Authentication;
using Microsoft.Extensions.Options;

namespace ImOrleans.Grains.Push.Providers;

/// <summary><c>Push:WebPush</c>. On when a VAPID key pair and subject are given.</summary>
public sealed class WebPushOptions
{
    public const string Section = "Push:WebPush";

    /// <summary>VAPID public key: the uncompressed P-256 point, base64url (the browser app subscribes with it).</summary>
    public string? PublicKey { get; set; }

    /// <summary>VAPID private key: the P-256 scalar, base64url.</summary>
    public string? PrivateKey { get; set; }

    /// <summary>Contact for the push services: <c>mailto:</c> or <c>https:</c> URL.</summary>
    public string? Subject { get; set; }

    /// <summary>How long the push service keeps an undelivered alert (TTL header), in seconds.</summary>
    public int TimeToLive { get; set; } = 86_400;

    /// <summary>Hosts subscription endpoints may have (e.g. <c>fcm.googleapis.com</c>,
    /// <c>updates.push.services.mozilla.com</c>, <c>web.push.apple.com</c>, <c>*.notify.windows.com</c>); empty: any host.
    /// A subscription is a URL the client chose, and this server will POST to it.</summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Plain-http endpoints (local tests only).</summary>
    public bool AllowHttp { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(PublicKey) && !string.IsNullOrWhiteSpace(PrivateKey) && !string.IsNullOrWhiteSpace(Subject);

    /// <summary>Null when this server may post to <paramref name="endpoint"/>, else why not.</summary>
    public string? Refuse(Uri endpoint)
    {
        if (endpoint.Scheme != Uri.UriSchemeHttps && !(AllowHttp && endpoint.Scheme == Uri.UriSchemeHttp))
            return "the subscription endpoint must be an https URL";
        if (AllowedHosts.Count > 0 && !AllowedHosts.Any(h => h.StartsWith("*.", StringComparison.Ordinal)
                ? endpoint.Host.EndsWith(h[1..], StringComparison.OrdinalIgnoreCase)
                : endpoint.Host.Equals(h, StringComparison.OrdinalIgnoreCase)))
            return $"push service '{endpoint.Host}' is not allowed on this server";
        return null;
    }
}

/// <summary>Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291), through
/// Lib.Net.Http.WebPush. The token is the browser's PushSubscription JSON.</summary>
public sealed class WebPushProvider(IOptions<WebPushOptions> options, IHttpClientFactory http, TimeProvider? time = null) : IPushProvider
{
    public const string ClientName = "push-webpush";

    private readonly WebPushOptions _options = options.Value;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly VapidAuthentication _vapid = new(options.Value.PublicKey, options.Value.PrivateKey) { Subject = options.Value.Subject };

    public string Name => PushProviders.WebPush;

    public string? Refuse(PushTarget target) => _options.Refuse(new Uri(Subscription(target.Token).Endpoint));

    public async Task<PushResult> SendAsync(PushNotification n, CancellationToken ct)
    {
        var subscription = Subscription(n.Target.Token);
        if (_options.Refuse(new Uri(subscription.Endpoint)) is { } refused)
            return PushResult.Failed(refused);
        var payload = new JsonObject { ["title"] = n.Title, ["body"] = n.Body };
        foreach (var (key, value) in n.Data)
            payload[key] = value;
        var client = new PushServiceClient(http.CreateClient(ClientName))
        {
            DefaultAuthentication = _vapid,
            AutoRetryAfter = false, // the queue retries, without holding this call
        };
        try
        {
            await client.RequestPushMessageDeliveryAsync(subscription, new PushMessage(payload.ToJsonString())
            {
                Topic = n.CollapseId, // a newer alert of the same conversation replaces a pending one
                Urgency = PushMessageUrgency.High,
                TimeToLive = _options.TimeToLive,
            }, ct);
            return PushResult.Sent;
        }
        catch (PushServiceClientException ex)
        {
            var code = (int)ex.StatusCode;
            if (ex.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
                return PushResult.Dead($"http {code}");
            if (PushHttp.IsRetryable(ex.StatusCode))
            {
                return PushResult.Retry($"http {code}", PushHttp.RetryAfter(ex.Headers?.RetryAfter, _time));
            }
            return PushResult.Failed($"http {code}");
        }
    }

    /// <summary>Reads a subscription JSON (<c>endpoint</c>, <c>keys.p256dh</c>, <c>keys.auth</c>); validated at registration.</summary>
    public static PushSubscription Subscription(string json)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        var subscription = new PushSubscription { Endpoint = PushHttp.Str(o["endpoint"]) };
        subscription.SetKey(PushEncryptionKeyName.P256DH, PushHttp.Str(o["keys"]?["p256dh"]));
        subscription.SetKey(PushEncryptionKeyName.Auth, PushHttp.Str(o["keys"]?["auth"]));
        return subscription;
    }
}
