using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ImOrleans.Models;
using Microsoft.Extensions.Options;

namespace ImOrleans.Grains.Push.Providers;

/// <summary><c>Push:Oppo</c>. On when the app key and master secret are given.</summary>
public sealed class OppoOptions
{
    public const string Section = "Push:Oppo";

    /// <summary>AppKey (OPPO open platform → push service → app information).</summary>
    public string? AppKey { get; set; }

    /// <summary>MasterSecret (same page; not the AppSecret).</summary>
    public string? MasterSecret { get; set; }

    public string Endpoint { get; set; } = "https://api.push.oppomobile.com";

    /// <summary>The app's private-message (私信) channel id, approved in the console: IM alerts on it are not capped.</summary>
    public string? ChannelId { get; set; }

    /// <summary>OPPO's message category; IM for chat (the classification since 2023).</summary>
    public string Category { get; set; } = "IM";

    /// <summary>Notification level: 2 = notification bar and lock screen (what IM uses); 16 = also a banner (needs approval).</summary>
    public int NotifyLevel { get; set; } = 2;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(AppKey) && !string.IsNullOrWhiteSpace(MasterSecret);
}

/// <summary>OPPO Push: <c>POST /server/v1/auth</c> with <c>sign = sha256(app_key + timestamp + master_secret)</c>
/// gives an <c>auth_token</c> (valid 24 h, cached), which goes with every
/// <c>POST /server/v1/message/notification/unicast</c>. Result codes are in the JSON body.</summary>
public sealed class OppoProvider(IOptions<OppoOptions> options, IHttpClientFactory http, TimeProvider? time = null) : IPushProvider
{
    public const string ClientName = "push-oppo";

    /// <summary>OPPO codes: auth_token invalid; flow control and "service busy" (retry); invalid registration id.</summary>
    private const string AuthTokenInvalid = "11", FlowControl = "-2", Busy = "-1", InvalidRegistrationId = "10000";

    private readonly OppoOptions _options = options.Value;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly AccessTokenCache _tokens = new(time ?? TimeProvider.System);

    public string Name => PushProviders.Oppo;

    public int TokenFetches => _tokens.Fetches;

    public async Task<PushResult> SendAsync(PushNotification n, CancellationToken ct)
    {
        var token = await _tokens.GetAsync(FetchTokenAsync, ct);
        var notification = new JsonObject
        {
            ["title"] = n.Title,
            ["content"] = n.Body,
            ["category"] = _options.Category,
            ["notify_level"] = _options.NotifyLevel,
            ["click_action_type"] = 0, // open the app
            ["action_parameters"] = n.DataJson().ToJsonString(),
        };
        if (_options.ChannelId is { Length: > 0 } channel)
            notification["channel_id"] = channel;
        var message = new JsonObject { ["target_type"] = 2, ["target_value"] = n.Target.Token, ["notification"] = notification };
        using var response = await http.CreateClient(ClientName).PostAsync($"{_options.Endpoint.TrimEnd('/')}/server/v1/message/notification/unicast",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["auth_token"] = token, ["message"] = message.ToJsonString() }), ct);
        if (!response.IsSuccessStatusCode)
            return PushHttp.Classify(response, _time);
        var body = await PushHttp.ReadJsonAsync(response, ct);
        var code = PushHttp.Str(body?["code"]);
        switch (code)
        {
            case "0":
                return PushResult.Sent;
            case AuthTokenInvalid:
                _tokens.Invalidate(token);
                return PushResult.Retry("auth_token invalid", TimeSpan.Zero);
            case FlowControl or Busy:
                return PushResult.Retry($"code {code}");
            case InvalidRegistrationId:
                return PushResult.Dead($"code {code}");
            default:
                return PushResult.Failed($"code {code}: {PushHttp.Str(body?["message"])}");
        }
    }

    private async Task<(string, TimeSpan)> FetchTokenAsync(CancellationToken ct)
    {
        var timestamp = _time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var sign = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(_options.AppKey + timestamp + _options.MasterSecret)));
        using var response = await http.CreateClient(ClientName).PostAsync($"{_options.Endpoint.TrimEnd('/')}/server/v1/auth",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["app_key"] = _options.AppKey!, ["sign"] = sign, ["timestamp"] = timestamp }), ct);
        var body = await PushHttp.ReadJsonAsync(response, ct);
        if (response.IsSuccessStatusCode && PushHttp.Str(body?["code"]) == "0" && PushHttp.Str(body?["data"]?["auth_token"]) is { Length: > 0 } token)
            return (token, TimeSpan.FromHours(24));
        var what = $"OPPO auth answered {(int)response.StatusCode} code {PushHttp.Str(body?["code"])}";
        throw PushHttp.IsRetryable(response.StatusCode) ? new HttpRequestException(what, null, response.StatusCode) : new PushCredentialsException(what);
    }
}
