namespace ImOrleans.Grains.Push;

/// <summary>Reads an OAuth 2.0 token response (<c>access_token</c>, <c>expires_in</c>).</summary>
internal static class OAuth
{
    /// <summary>The token and its lifetime. A 429/5xx answer throws <see cref="HttpRequestException"/> (the send is
    /// retried); any other refusal throws <see cref="PushCredentialsException"/> (the send fails: the credentials are wrong).</summary>
    public static async Task<(string Token, TimeSpan Lifetime)> ReadTokenAsync(HttpResponseMessage response, string service, CancellationToken ct)
    {
        var body = await PushHttp.ReadJsonAsync(response, ct);
        if (response.IsSuccessStatusCode && PushHttp.Str(body?["access_token"]) is { Length: > 0 } token)
        {
            var seconds = body!["expires_in"] is { } e && long.TryParse(PushHttp.Str(e), out var s) ? s : 3600;
            return (token, TimeSpan.FromSeconds(seconds));
        }
        var what = $"{service} token endpoint answered {(int)response.StatusCode} {PushHttp.Str(body?["error"])}";
        throw PushHttp.IsRetryable(response.StatusCode) ? new HttpRequestException(what, null, response.StatusCode) : new PushCredentialsException(what);
    }
}

/// <summary>A push service refused this server's credentials: nothing to retry until the operator fixes them.</summary>
public sealed class PushCredentialsException(string message) : Exception(message);
