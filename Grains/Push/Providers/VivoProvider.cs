using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ImOrleans.Models;
using Microsoft.Extensions.Options;

namespace ImOrleans.Grains.Push.Providers;

/// <summary><c>Push:Vivo</c>. On when the app id, key and secret are given.</summary>
public sealed class VivoOptions
{
    public const string Section = "Push:Vivo";

    /// <summary>AppID, AppKey and AppSecret (vivo open platform → push service → app information).</summary>
    public string? AppId { get; set; }
    public string? AppKey { get; set; }
    public string? AppSecret { get; set; }

    public string Endpoint { get; set; } = "https://api-push.vivo.com.cn";

    /// <summary>vivo's message category; IM for chat (a "system message", <c>classification: 1</c>, not capped like operations messages).</summary>
    public string Category { get; set; } = "IM";

    public bool IsConfigured => !string.IsNullOrWhiteSpace(AppId) && !string.IsNullOrWhiteSpace(AppKey) && !string.IsNullOrWhiteSpace(AppSecret);
}

/// <summary>vivo Push: <c>POST /message/auth</c> with <c>sign = md5(appId + appKey + timestamp + appSecret)</c> gives an
/// <c>authToken</c> (valid a day; renewed hourly as vivo advises), sent as a header with <c>POST /message/send</c>.</summary>
public sealed class VivoProvider(IOptions<VivoOptions> options, IHttpClientFactory http, TimeProvider? time = null) : IPushProvider
{
    public const string ClientName = "push-vivo";

    /// <summary>vivo result codes: authToken invalid or expired; regId invalid.</summary>
    private const string AuthTokenInvalid = "10000", InvalidRegId = "10302";

    private readonly VivoOptions _options = options.Value;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly AccessTokenCache _tokens = new(time ?? TimeProvider.System);

    public string Name => PushProviders.Vivo;

    public int TokenFetches => _tokens.Fetches;

    public async Task<PushResult> SendAsync(PushNotification n, CancellationToken ct)
    {
        var token = await _tokens.GetAsync(FetchTokenAsync, ct);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{_options.Endpoint.TrimEnd('/')}/message/send")
        {
            Content = JsonContent.Create(new JsonObject
            {
                ["appId"] = _options.AppId,
                ["regId"] = n.Target.Token,
                ["notifyType"] = 4, // sound and vibration
                ["title"] = n.Title,
                ["content"] = n.Body,
                ["skipType"] = 1, // open the app
                ["classification"] = 1, // system message (IM), not an operations message
                ["category"] = _options.Category,
                ["requestId"] = Guid.NewGuid().ToString("N"),
                ["clientCustomMap"] = n.DataJson(),
            }),
        };
        request.Headers.Add("authToken", token);
        using var response = await http.CreateClient(ClientName).SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
            return PushHttp.Classify(response, _time);
        var body = await PushHttp.ReadJsonAsync(response, ct);
        var result = PushHttp.Str(body?["result"]);
        switch (result)
        {
            case "0":
                return PushResult.Sent;
            case AuthTokenInvalid:
                _tokens.Invalidate(token);
                return PushResult.Retry("authToken invalid", TimeSpan.Zero);
            case InvalidRegId:
                return PushResult.Dead($"result {result}");
            default:
                return PushResult.Failed($"result {result}: {PushHttp.Str(body?["desc"])}");
        }
    }

    private async Task<(string, TimeSpan)> FetchTokenAsync(CancellationToken ct)
    {
        var timestamp = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var sign = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(
            _options.AppId + _options.AppKey + timestamp.ToString(CultureInfo.InvariantCulture) + _options.AppSecret)));
        using var response = await http.CreateClient(ClientName).PostAsync($"{_options.Endpoint.TrimEnd('/')}/message/auth",
            JsonContent.Create(new JsonObject { ["appId"] = _options.AppId, ["appKey"] = _options.AppKey, ["timestamp"] = timestamp, ["sign"] = sign }), ct);
        var body = await PushHttp.ReadJsonAsync(response, ct);
        if (response.IsSuccessStatusCode && PushHttp.Str(body?["result"]) == "0" && PushHttp.Str(body?["authToken"]) is { Length: > 0 } token)
            return (token, TimeSpan.FromHours(1) + TimeSpan.FromMinutes(10)); // renewed after an hour (the cache keeps a margin)
        var what = $"vivo auth answered {(int)response.StatusCode} result {PushHttp.Str(body?["result"])}";
        throw PushHttp.IsRetryable(response.StatusCode) ? new HttpRequestException(what, null, response.StatusCode) : new PushCredentialsException(what);
    }
}
