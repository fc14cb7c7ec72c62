using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace ImOrleans.Gateway.Auth;

/// <summary>Signing keys of external issuers, fetched from their JWKS URL and kept for
/// <see cref="AuthOptions.JwksRefreshInterval"/>, so that a key rotation at the issuer is picked up without a restart.
/// A token anyone can make must not be able to make the gateway fetch: one fetch per issuer runs at a time and all
/// logins share it, it is cut off after <see cref="AuthOptions.JwksFetchTimeout"/>, and after a failure (or for a
/// <c>kid</c> not in the set, as after a rotation) the set is asked for again at most once per
/// <see cref="AuthOptions.JwksRetryInterval"/>.</summary>
public sealed class ExternalKeys(IHttpClientFactory http, IOptions<AuthOptions> options, TimeProvider time, ILogger<ExternalKeys> log)
{
    /// <summary>The named HTTP client the fetches use (its timeout is the fetch timeout).</summary>
    public const string HttpClientName = nameof(ExternalKeys);

    private sealed class KeySet
    {
        public IList<SecurityKey> Keys = [];
        public DateTimeOffset FetchedAt = DateTimeOffset.MinValue;
        public DateTimeOffset TriedAt = DateTimeOffset.MinValue;
        public Task? Fetching;
    }

    private readonly ConcurrentDictionary<string, KeySet> _sets = new();

    /// <summary>The issuer's keys, fetched first if they are old or lack <paramref name="kid"/> and a fetch is due.</summary>
    public async Task<IList<SecurityKey>> GetAsync(ExternalIssuer issuer, string? kid)
    {
        var set = _sets.GetOrAdd(issuer.JwksUrl, _ => new KeySet());
        Task? fetching;
        lock (set)
        {
            var now = time.GetUtcNow();
            var stale = now - set.FetchedAt >= options.Value.JwksRefreshInterval;
            var unknownKid = !string.IsNullOrEmpty(kid) && !set.Keys.Any(k => k.KeyId == kid);
            if (!stale && !unknownKid)
                return set.Keys;
            if (set.Fetching is null && now - set.TriedAt >= options.Value.JwksRetryInterval)
            {
                set.TriedAt = now;
                set.Fetching = FetchAsync(issuer, set);
            }
            fetching = set.Fetching;
        }
        if (fetching is not null)
            await fetching;
        lock (set)
            return set.Keys;
    }

    private async Task FetchAsync(ExternalIssuer issuer, KeySet set)
    {
        await Task.Yield(); // the caller sets Fetching before this runs on
        try
        {
            var json = await http.CreateClient(HttpClientName).GetStringAsync(issuer.JwksUrl);
            var keys = new JsonWebKeySet(json).GetSigningKeys();
            lock (set)
            {
                set.Keys = keys;
                set.FetchedAt = time.GetUtcNow();
            }
        }
        catch (Exception ex)
        {
            // The last keys stay in use; the next try waits for the retry interval.
            log.LogWarning(ex, "Could not fetch keys of issuer {Issuer} from {Url}", issuer.Issuer, issuer.JwksUrl);
        }
        finally
        {
            lock (set)
                set.Fetching = null;
        }
    }
}
