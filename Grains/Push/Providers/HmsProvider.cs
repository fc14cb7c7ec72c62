using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ImOrleans.Models;
using Microsoft.Extensions.Options;

namespace ImOrleans.Grains.Push.Providers;

/// <summary><c>Push:Hms</c>. On when the app id and the client secret are given.</summary>
public sealed class HmsOptions
{
    public const string Section = "Push:Hms";

    /// <summary>App ID (AppGallery Connect → project → app information).</summary>
    public string? AppId { get; set; }

    /// <summary>OAuth client id; default: the app id.</summary>
    public string? ClientId { get; set; }

    /// <summary>OAuth client secret (the app secret).</summary>
    public string? ClientSecret { get; set; }

    public string AuthEndpoint { get; set; } = "https://oauth-login.cloud.huawei.com/oauth2/v3/token";
    public string Endpoint { get; set; } = "https://push-api.cloud.huawei.com";

    /// <summary><c>android.category</c>: IM for chat messages (approved in the console); not throttled like marketing.</summary>
    public string Category { get; set; } = "IM";

    public bool IsConfigured => !string.IsNullOrWhiteSpace(AppId) && !string.IsNullOrWhiteSpace(ClientSecret);
}

/// <summary>Huawei Push Kit: client-credentials OAuth token (cached), then <c>POST /v1/{appId}/messages:send</c>.
/// Answers carry a result code in the JSON body, mostly with HTTP 200.</summary>
public sealed class HmsProvider(IOptions<HmsOptions> options, IHttpClientFactory http, TimeProvider? time = null) : IPushProvider
{
    public const string ClientName = "push-hms";

    private readonly HmsOptions _options = options.Value;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly AccessTokenCache _tokens = new(time ?? TimeProvider.System);

    public string Name => PushProviders.Hms;

    public int TokenFetches => _tokens.Fetches;

    public async Task<PushResult> SendAsync(PushNotification n, CancellationToken ct)
    {
        var token = await _tokens.GetAsync(FetchTokenAsync, ct);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{_options.Endpoint.TrimEnd('/')}/v1/{Uri.EscapeDataString(_options.AppId!)}/messages:send")
        {
            Content = JsonContent.Create(Message(n)),
        };
        request.Headers.Authorization = new("Bearer", token);
        using var response = await http.CreateClient(ClientName).SendAsync(request, ct);
        var body = await PushHttp.ReadJsonAsync(response, ct);
        var code = PushHttp.Str(body?["code"]);
        switch (code)
        {
            case "80000000":
                return PushResult.Sent;
            case "80200001" or "80200003": // OAuth token invalid or expired: a new one, and again
                _tokens.Invalidate(token);
                return PushResult.Retry(code, TimeSpan.Zero);
            case "80300007": // all tokens invalid
                return PushResult.Dead(code);
            case "80100000": // some failed; "msg" lists them: {"success":0,"failure":1,"illegal_tokens":[...]}
                var illegal = PushHttp.Str(body?["msg"]) is { } msg && msg.StartsWith('{') ? JsonNode.Parse(msg)?["illegal_tokens"] as JsonArray : null;
                return illegal?.Any(t => PushHttp.Str(t) == n.Target.Token) == true ? PushResult.Dead(code) : PushResult.Failed(code);
        }
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            _tokens.Invalidate(token);
            return PushResult.Retry("http 401", TimeSpan.Zero);
        }
        return response.IsSuccessStatusCode ? PushResult.Failed(code ?? "no code") : PushHttp.Classify(response, _time, code);
    }

    private JsonObject Message(PushNotification n) => new()
    {
        ["validate_only"] = false,
        ["message"] = new JsonObject
        {
            ["data"] = n.DataJson().ToJsonString(),
            ["android"] = new JsonObject
            {
                ["category"] = _options.Category,
                ["notification"] = new JsonObject
                {
                    ["title"] = n.Title,
                    ["body"] = n.Body,
                    ["tag"] = n.CollapseId,
                    ["importance"] = "NORMAL", // service and communication messages, not marketing
                    ["click_action"] = new JsonObject { ["type"] = 3 }, // open the app
                },
            },
            ["token"] = new JsonArray(n.Target.Token),
        },
    };

    private async Task<(string, TimeSpan)> FetchTokenAsync(CancellationToken ct)
    {
        using var response = await http.CreateClient(ClientName).PostAsync(_options.AuthEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = _options.ClientId is { Length: > 0 } id ? id : _options.AppId!,
            ["client_secret"] = _options.ClientSecret!,
        }), ct);
        return await OAuth.ReadTokenAsync(response, "HMS", ct);
    }
}
