using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ImOrleans.Models;
using Microsoft.Extensions.Options;

namespace ImOrleans.Grains.Push.Providers;

/// <summary><c>Push:Honor</c>. On when the app id, client id and client secret are given.</summary>
public sealed class HonorOptions
{
    public const string Section = "Push:Honor";

    /// <summary>App ID (Honor developer console → app → Push service).</summary>
    public string? AppId { get; set; }
    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }

    public string AuthEndpoint { get; set; } = "https://iam.developer.hihonor.com/auth/realms/developer/protocol/openid-connect/token";
    public string Endpoint { get; set; } = "https://push-api.cloud.hihonor.com";

    /// <summary><c>android.notification.importance</c>: NORMAL is Honor's "service and communication" class (IM);
    /// LOW is marketing, capped per device and day.</summary>
    public string Importance { get; set; } = "NORMAL";

    public bool IsConfigured => !string.IsNullOrWhiteSpace(AppId) && !string.IsNullOrWhiteSpace(ClientId) && !string.IsNullOrWhiteSpace(ClientSecret);
}

/// <summary>Honor Push: client-credentials token (cached), then <c>POST /api/v1/{appId}/sendMessage</c> with a
/// millisecond <c>timestamp</c> header; dead tokens come back in <c>data.expireTokens</c>.</summary>
public sealed class HonorProvider(IOptions<HonorOptions> options, IHttpClientFactory http, TimeProvider? time = null) : IPushProvider
{
    public const string ClientName = "push-honor";

    private readonly HonorOptions _options = options.Value;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly AccessTokenCache _tokens = new(time ?? TimeProvider.System);

    public string Name => PushProviders.Honor;

    public int TokenFetches => _tokens.Fetches;

    public async Task<PushResult> SendAsync(PushNotification n, CancellationToken ct)
    {
        var token = await _tokens.GetAsync(FetchTokenAsync, ct);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{_options.Endpoint.TrimEnd('/')}/api/v1/{Uri.EscapeDataString(_options.AppId!)}/sendMessage")
        {
            Content = JsonContent.Create(new JsonObject
            {
                ["data"] = n.DataJson().ToJsonString(),
                ["android"] = new JsonObject
                {
                    ["notification"] = new JsonObject
                    {
                        ["title"] = n.Title,
                        ["body"] = n.Body,
                        ["tag"] = n.CollapseId,
                        ["importance"] = _options.Importance,
                        ["clickAction"] = new JsonObject { ["type"] = 3 },
                    },
                },
                ["token"] = new JsonArray(n.Target.Token),
            }),
        };
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.Add("timestamp", _time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        using var response = await http.CreateClient(ClientName).SendAsync(request, ct);
        var body = await PushHttp.ReadJsonAsync(response, ct);
        var code = PushHttp.Str(body?["code"]);
        if (response.StatusCode == HttpStatusCode.Unauthorized || code is "80200001" or "80200003")
        {
            _tokens.Invalidate(token);
            return PushResult.Retry(code ?? "http 401", TimeSpan.Zero);
        }
        if (!response.IsSuccessStatusCode)
            return PushHttp.Classify(response, _time, code);
        var data = body?["data"] as JsonObject;
        if (Lists(data?["expireTokens"], n.Target.Token) || code == "80300007")
            return PushResult.Dead(code == "80300007" ? code : "expireTokens");
        return code == "200" && data?["sendResult"]?.GetValue<bool>() != false ? PushResult.Sent : PushResult.Failed(code ?? "no code");
    }

    private static bool Lists(JsonNode? array, string token) => array is JsonArray a && a.Any(t => PushHttp.Str(t) == token);

    private async Task<(string, TimeSpan)> FetchTokenAsync(CancellationToken ct)
    {
        using var response = await http.CreateClient(ClientName).PostAsync(_options.AuthEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = _options.ClientId!,
            ["client_secret"] = _options.ClientSecret!,
        }), ct);
        return await OAuth.ReadTokenAsync(response, "Honor", ct);
    }
}
