using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ImOrleans.Models;
using Microsoft.Extensions.Options;

namespace ImOrleans.Grains.Push.Providers;

/// <summary><c>Push:Fcm</c>. On when a service account is given.</summary>
public sealed class FcmOptions
{
    public const string Section = "Push:Fcm";

    /// <summary>Path of the service account JSON from the Firebase console (Project settings → Service accounts).</summary>
    public string? ServiceAccountFile { get; set; }

    /// <summary>The service account JSON itself (instead of the file).</summary>
    public string? ServiceAccountJson { get; set; }

    /// <summary>Firebase project id; default: the service account's <c>project_id</c>.</summary>
    public string? ProjectId { get; set; }

    /// <summary>Base URL of the FCM HTTP v1 API.</summary>
    public string Endpoint { get; set; } = "https://fcm.googleapis.com";

    public bool IsConfigured => !string.IsNullOrWhiteSpace(ServiceAccountFile) || !string.IsNullOrWhiteSpace(ServiceAccountJson);
}

/// <summary>Firebase Cloud Messaging, HTTP v1: a service-account JWT (RS256) is exchanged at the account's
/// <c>token_uri</c> for an OAuth access token (cached), which authorizes <c>POST /v1/projects/{id}/messages:send</c>.</summary>
public sealed class FcmProvider : IPushProvider, IDisposable
{
    public const string ClientName = "push-fcm";
    private const string Scope = "https://www.googleapis.com/auth/firebase.messaging";

    private readonly IHttpClientFactory _http;
    private readonly TimeProvider _time;
    private readonly AccessTokenCache _tokens;
    private readonly RSA _key;
    private readonly string _email, _keyId, _tokenUri, _sendUri;

    public FcmProvider(IOptions<FcmOptions> options, IHttpClientFactory http, TimeProvider? time = null)
    {
        var o = options.Value;
        _http = http;
        _time = time ?? TimeProvider.System;
        _tokens = new AccessTokenCache(_time);
        var json = !string.IsNullOrWhiteSpace(o.ServiceAccountJson) ? o.ServiceAccountJson : File.ReadAllText(o.ServiceAccountFile!);
        var account = JsonNode.Parse(json) as JsonObject ?? throw new InvalidOperationException("Push:Fcm: the service account is not a JSON object");
        string Field(string name) => PushHttp.Str(account[name]) is { Length: > 0 } v ? v
            : throw new InvalidOperationException($"Push:Fcm: the service account has no '{name}'");
        _email = Field("client_email");
        _keyId = Field("private_key_id");
        _tokenUri = PushHttp.Str(account["token_uri"]) ?? "https://oauth2.googleapis.com/token";
        _key = RSA.Create();
        _key.ImportFromPem(Field("private_key"));
        var project = o.ProjectId is { Length: > 0 } p ? p : Field("project_id");
        _sendUri = $"{o.Endpoint.TrimEnd('/')}/v1/projects/{Uri.EscapeDataString(project)}/messages:send";
    }

    public string Name => PushProviders.Fcm;

    /// <summary>Access tokens fetched so far.</summary>
    public int TokenFetches => _tokens.Fetches;

    public async Task<PushResult> SendAsync(PushNotification n, CancellationToken ct)
    {
        var http = _http.CreateClient(ClientName);
        var token = await _tokens.GetAsync(FetchTokenAsync, ct);
        using var request = new HttpRequestMessage(HttpMethod.Post, _sendUri) { Content = JsonContent.Create(Message(n)) };
        request.Headers.Authorization = new("Bearer", token);
        using var response = await http.SendAsync(request, ct);
        if (response.IsSuccessStatusCode)
            return PushResult.Sent;
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            _tokens.Invalidate(token);
            return PushResult.Retry("access token refused", TimeSpan.Zero);
        }
        var error = (await PushHttp.ReadJsonAsync(response, ct))?["error"] as JsonObject;
        var status = PushHttp.Str(error?["status"]);
        var fcmCode = (error?["details"] as JsonArray)?.OfType<JsonObject>().Select(d => PushHttp.Str(d["errorCode"])).FirstOrDefault(c => c is not null);
        var message = PushHttp.Str(error?["message"]) ?? "";
        // UNREGISTERED: the app was uninstalled or the token expired; SENDER_ID_MISMATCH: the token is another project's;
        // INVALID_ARGUMENT about the token: it was never valid.
        if (fcmCode is "UNREGISTERED" or "SENDER_ID_MISMATCH"
            || (fcmCode ?? status) == "INVALID_ARGUMENT" && message.Contains("registration token", StringComparison.OrdinalIgnoreCase))
            return PushResult.Dead(fcmCode ?? status!);
        return PushHttp.Classify(response, _time, fcmCode ?? status);
    }

    private static JsonObject Message(PushNotification n) => new()
    {
        ["message"] = new JsonObject
        {
            ["token"] = n.Target.Token,
            ["notification"] = new JsonObject { ["title"] = n.Title, ["body"] = n.Body },
            ["data"] = n.DataJson(),
            ["android"] = new JsonObject
            {
                ["priority"] = "high",
                ["collapse_key"] = n.CollapseId,
                ["notification"] = new JsonObject { ["tag"] = n.CollapseId, ["notification_count"] = n.Badge },
            },
            ["apns"] = new JsonObject
            {
                ["headers"] = new JsonObject { ["apns-collapse-id"] = n.CollapseId },
                ["payload"] = new JsonObject { ["aps"] = new JsonObject { ["badge"] = n.Badge } },
            },
        },
    };

    /// <summary>The JWT bearer grant (RFC 7523) Google's token endpoint takes for a service account.</summary>
    private async Task<(string, TimeSpan)> FetchTokenAsync(CancellationToken ct)
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var assertion = Jws.Rs256(
            new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT", ["kid"] = _keyId },
            new JsonObject { ["iss"] = _email, ["scope"] = Scope, ["aud"] = _tokenUri, ["iat"] = now, ["exp"] = now + 3600 },
            _key);
        using var response = await _http.CreateClient(ClientName).PostAsync(_tokenUri, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "urn:ietf:params:oauth:grant-type:jwt-bearer",
            ["assertion"] = assertion,
        }), ct);
        return await OAuth.ReadTokenAsync(response, "FCM", ct);
    }

    public void Dispose() => _key.Dispose();
}
