using System.Collections.Concurrent;
using Microsoft.IdentityModel.Tokens;

namespace ImOrleans.Gateway.Auth;

/// <summary>Signing keys of external issuers, fetched from their JWKS URL and kept for a while,
/// so that a key rotation at the issuer is picked up without a restart.</summary>
public sealed class ExternalKeys(IHttpClientFactory http, ILogger<ExternalKeys> log)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    private readonly ConcurrentDictionary<string, (DateTime Fetched, IList<SecurityKey> Keys)> _cache = new();

    public async Task<IList<SecurityKey>> GetAsync(ExternalIssuer issuer)
    {
        if (_cache.TryGetValue(issuer.JwksUrl, out var hit) && DateTime.UtcNow - hit.Fetched < Lifetime)
            return hit.Keys;
        try
        {
            var json = await http.CreateClient(nameof(ExternalKeys)).GetStringAsync(issuer.JwksUrl);
            var keys = new JsonWebKeySet(json).GetSigningKeys();
            _cache[issuer.JwksUrl] = (DateTime.UtcNow, keys);
            return keys;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or ArgumentException)
        {
            log.LogWarning(ex, "Could not fetch keys of issuer {Issuer} from {Url}", issuer.Issuer, issuer.JwksUrl);
            return hit.Keys ?? [];
        }
    }
}
