using System.Globalization;
using System.Text.Json.Nodes;
using ImOrleans.Models;
using Microsoft.Extensions.Options;

namespace ImOrleans.Grains.Push.Providers;

/// <summary><c>Push:Xiaomi</c>. On when the app secret and package name are given.</summary>
public sealed class XiaomiOptions
{
    public const string Section = "Push:Xiaomi";

    /// <summary>AppSecret (Xiaomi open platform → push service → app information).</summary>
    public string? AppSecret { get; set; }

    /// <summary>The Android package name (<c>restricted_package_name</c>).</summary>
    public string? PackageName { get; set; }

    public string Endpoint { get; set; } = "https://api.xmpush.xiaomi.com";

    /// <summary>The channel id of the app's "private message" (私信) channel registered in the console: IM alerts
    /// sent on it are not capped like public (marketing) ones. Empty: the default channel.</summary>
    public string? ChannelId { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(AppSecret) && !string.IsNullOrWhiteSpace(PackageName);
}

/// <summary>Xiaomi Mi Push: <c>POST /v3/message/regid</c>, form-encoded, <c>Authorization: key=&lt;AppSecret&gt;</c>;
/// dead registration ids come back in <c>data.bad_regids</c>.</summary>
public sealed class XiaomiProvider(IOptions<XiaomiOptions> options, IHttpClientFactory http, TimeProvider? time = null) : IPushProvider
{
    public const string ClientName = "push-xiaomi";

    private readonly XiaomiOptions _options = options.Value;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public string Name => PushProviders.Xiaomi;

    public async Task<PushResult> SendAsync(PushNotification n, CancellationToken ct)
    {
        var form = new Dictionary<string, string>
        {
            ["registration_id"] = n.Target.Token,
            ["restricted_package_name"] = _options.PackageName!,
            ["title"] = n.Title,
            ["description"] = n.Body,
            ["payload"] = n.DataJson().ToJsonString(),
            ["pass_through"] = "0", // a notification the system shows, not a message to the app
            ["notify_type"] = "-1", // default sound, vibration and light
            ["notify_id"] = n.CollapseNumber.ToString(CultureInfo.InvariantCulture), // same conversation: replaces
            ["extra.notify_effect"] = "1", // open the app
        };
        if (_options.ChannelId is { Length: > 0 } channel)
            form["extra.channel_id"] = channel;
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{_options.Endpoint.TrimEnd('/')}/v3/message/regid") { Content = new FormUrlEncodedContent(form) };
        request.Headers.TryAddWithoutValidation("Authorization", $"key={_options.AppSecret}");
        using var response = await http.CreateClient(ClientName).SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
            return PushHttp.Classify(response, _time);
        var body = await PushHttp.ReadJsonAsync(response, ct);
        var bad = PushHttp.Str(body?["data"]?["bad_regids"]);
        if (bad is { Length: > 0 } && bad.Split(',').Contains(n.Target.Token))
            return PushResult.Dead("bad_regids");
        var code = PushHttp.Str(body?["code"]);
        return code == "0" ? PushResult.Sent : PushResult.Failed($"code {code}: {PushHttp.Str(body?["reason"])}");
    }
}
