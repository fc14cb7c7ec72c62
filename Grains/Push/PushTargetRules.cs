using System.Text.Json;
using System.Text.Json.Nodes;
using ImOrleans.Models;

namespace ImOrleans.Grains.Push;

/// <summary>What a push registration must look like; a token that breaks these is refused with bad_request before it
/// is stored (it would only fail at the provider later, or worse, be put into a URL).</summary>
public static class PushTargetRules
{
    public const int MaxTokenLength = 1024;
    public const int MaxSubscriptionLength = 4096;

    public static void Require(PushTarget target)
    {
        if (!PushProviders.All.Contains(target.Provider))
            throw Bad($"'provider' must be one of {string.Join(", ", PushProviders.All)}");
        var token = target.Token;
        if (string.IsNullOrWhiteSpace(token))
            throw Bad("'token' is empty");
        switch (target.Provider)
        {
            case PushProviders.WebPush:
                RequireSubscription(token);
                break;
            case PushProviders.Apns:
                // 32 bytes today as hex; Apple says the length may grow, so up to 100 bytes.
                if (token.Length is < 64 or > 200 || token.Length % 2 != 0 || !token.All(char.IsAsciiHexDigit))
                    throw Bad("an APNs token is the device token as an even number of 64-200 hex digits");
                break;
            case PushProviders.Webhook:
                if (token.Length > MaxTokenLength || token.Any(c => c < 0x21 || c > 0x7E))
                    throw Bad($"a webhook token is 1-{MaxTokenLength} printable ASCII characters without spaces");
                break;
            default:
                // FCM, HMS, Honor, Xiaomi, OPPO, vivo: opaque ids of letters, digits and a few marks; never a comma
                // (Xiaomi takes comma-separated lists) nor anything that would change a URL or form.
                if (token.Length > MaxTokenLength || !token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or ':' or '.' or '=' or '+' or '/'))
                    throw Bad($"a {target.Provider} token is 1-{MaxTokenLength} characters of letters, digits and - _ : . = + /");
                break;
        }
    }

    /// <summary>A browser PushSubscription as JSON: <c>endpoint</c> (an absolute URL), <c>keys.p256dh</c> (a P-256 point,
    /// base64url, 65 bytes) and <c>keys.auth</c> (16 bytes, base64url).</summary>
    private static void RequireSubscription(string token)
    {
        if (token.Length > MaxSubscriptionLength)
            throw Bad($"a webpush subscription is at most {MaxSubscriptionLength} characters");
        JsonObject? o;
        try
        {
            o = JsonNode.Parse(token) as JsonObject;
        }
        catch (JsonException)
        {
            o = null;
        }
        if (o is null)
            throw Bad("a webpush token is the subscription as JSON: {\"endpoint\",\"keys\":{\"p256dh\",\"auth\"}}");
        if (PushHttp.Str(o["endpoint"]) is not { Length: > 0 and <= 2048 } endpoint || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("https" or "http"))
            throw Bad("the subscription's 'endpoint' must be an absolute https URL");
        if (Base64UrlLength(PushHttp.Str(o["keys"]?["p256dh"])) != 65)
            throw Bad("the subscription's 'keys.p256dh' must be a P-256 public key (65 bytes, base64url)");
        if (Base64UrlLength(PushHttp.Str(o["keys"]?["auth"])) != 16)
            throw Bad("the subscription's 'keys.auth' must be 16 bytes, base64url");
    }

    private static int Base64UrlLength(string? s)
    {
        if (s is null || s.Length > 200)
            return -1;
        try
        {
            return Convert.FromBase64String(s.Replace('-', '+').Replace('_', '/').PadRight((s.Length + 3) / 4 * 4, '=')).Length;
        }
        catch (FormatException)
        {
            return -1;
        }
    }

    private static ImException Bad(string message) => new(ErrorCodes.BadRequest, message);
}
