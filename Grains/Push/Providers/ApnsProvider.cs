using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ImOrleans.Models;
using Microsoft.Extensions.Options;

namespace ImOrleans.Grains.Push.Providers;

/// <summary><c>Push:Apns</c>. On when a key, its id, the team and the topic are given.</summary>
public sealed class ApnsOptions
{
    public const string Section = "Push:Apns";

    /// <summary>Path of the .p8 token-signing key (Apple Developer → Certificates, IDs &amp; Profiles → Keys).</summary>
    public string? KeyFile { get; set; }

    /// <summary>The .p8 key's PEM text itself (instead of the file).</summary>
    public string? Key { get; set; }

    /// <summary>The key's 10-character Key ID.</summary>
    public string? KeyId { get; set; }

    /// <summary>The 10-character Team ID of the developer account.</summary>
    public string? TeamId { get; set; }

    /// <summary>The app's bundle id (<c>apns-topic</c>).</summary>
    public string? Topic { get; set; }

    public string Endpoint { get; set; } = "https://api.push.apple.com";

    /// <summary>For tokens registered with <c>sandbox: true</c> (development builds).</summary>
    public string SandboxEndpoint { get; set; } = "https://api.sandbox.push.apple.com";

    /// <summary>How long one provider token is used. Apple refuses tokens older than an hour and answers 429 to
    /// new ones more often than every 20 minutes.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(40);

    public bool IsConfigured => (!string.IsNullOrWhiteSpace(KeyFile) || !string.IsNullOrWhiteSpace(Key))
        && !string.IsNullOrWhiteSpace(KeyId) && !string.IsNullOrWhiteSpace(TeamId) && !string.IsNullOrWhiteSpace(Topic);
}

/// <summary>Apple Push Notification service over HTTP/2 with token authentication: an ES256 JWT
/// (<c>kid</c> = key id, <c>iss</c> = team, <c>iat</c>) in <c>authorization: bearer</c>, renewed every
/// <see cref="ApnsOptions.TokenLifetime"/>.</summary>
public sealed class ApnsProvider : IPushProvider, IDisposable
{
    public const string ClientName = "push-apns";

    private readonly ApnsOptions _options;
    private readonly IHttpClientFactory _http;
    private readonly TimeProvider _time;
    private readonly ECDsa _key;
    private readonly Lock _lock = new();
    private (string Jwt, DateTimeOffset IssuedAt)? _token;

    public ApnsProvider(IOptions<ApnsOptions> options, IHttpClientFactory http, TimeProvider? time = null)
    {
        _options = options.Value;
        _http = http;
        _time = time ?? TimeProvider.System;
        _key = ECDsa.Create();
        _key.ImportFromPem(Jws.Pem(_options.Key, _options.KeyFile, "Push:Apns:Key"));
    }

    public string Name => PushProviders.Apns;

    /// <summary>Provider tokens signed so far.</summary>
    public int TokensSigned { get; private set; }

    public async Task<PushResult> SendAsync(PushNotification n, CancellationToken ct)
    {
        var jwt = ProviderToken();
        var endpoint = n.Target.Sandbox ? _options.SandboxEndpoint : _options.Endpoint;
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{endpoint.TrimEnd('/')}/3/device/{n.Target.Token}")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact, // APNs speaks HTTP/2 only
            Content = JsonContent.Create(Payload(n)),
        };
        request.Headers.TryAddWithoutValidation("authorization", $"bearer {jwt}");
        request.Headers.Add("apns-topic", _options.Topic);
        request.Headers.Add("apns-push-type", "alert");
        request.Headers.Add("apns-priority", "10");
        request.Headers.Add("apns-collapse-id", n.CollapseId);
        request.Headers.Add("apns-expiration", _time.GetUtcNow().AddDays(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await _http.CreateClient(ClientName).SendAsync(request, ct);
        if (response.IsSuccessStatusCode)
            return PushResult.Sent;
        var reason = PushHttp.Str((await PushHttp.ReadJsonAsync(response, ct))?["reason"]) ?? "";
        if (response.StatusCode == HttpStatusCode.Gone || reason is "BadDeviceToken" or "DeviceTokenNotForTopic" or "Unregistered")
            return PushResult.Dead(reason.Length > 0 ? reason : "410");
        if (reason is "ExpiredProviderToken" or "InvalidProviderToken")
        {
            lock (_lock)
            {
                if (_token?.Jwt == jwt)
                    _token = null;
            }
            return PushResult.Retry(reason, TimeSpan.Zero);
        }
        return PushHttp.Classify(response, _time, reason);
    }

    private static JsonObject Payload(PushNotification n)
    {
        var payload = new JsonObject
        {
            ["aps"] = new JsonObject
            {
                ["alert"] = new JsonObject { ["title"] = n.Title, ["body"] = n.Body },
                ["badge"] = n.Badge,
                ["sound"] = "default",
                ["thread-id"] = n.Conversation,
            },
        };
        foreach (var (key, value) in n.Data)
            payload[key] = value;
        return payload;
    }

    /// <summary>The current provider token, signed anew when it is older than the configured lifetime.</summary>
    private string ProviderToken()
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            if (_token is { } t && now - t.IssuedAt < _options.TokenLifetime)
                return t.Jwt;
            var jwt = Jws.Es256(
                new JsonObject { ["alg"] = "ES256", ["kid"] = _options.KeyId },
                new JsonObject { ["iss"] = _options.TeamId, ["iat"] = now.ToUnixTimeSeconds() },
                _key);
            _token = (jwt, now);
            TokensSigned++;
            return jwt;
        }
    }

    public void Dispose() => _key.Dispose();
}
