namespace ImOrleans.Gateway.Auth;

/// <summary>Token issuing and validation, bound from the <c>Auth</c> configuration section.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>The <c>iss</c> of tokens this gateway issues.</summary>
    public string Issuer { get; set; } = "imorleans";

    /// <summary>The <c>aud</c> of tokens this gateway issues and accepts from itself.</summary>
    public string Audience { get; set; } = "imorleans";

    /// <summary>Base64 HMAC-SHA256 key (at least 32 bytes). Every gateway of a cluster must share it.
    /// When empty, a key is created once in <see cref="SigningKeyFile"/> (fine for one process).</summary>
    public string? SigningKey { get; set; }

    public string SigningKeyFile { get; set; } = "data/jwt-signing.key";

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>External OpenID Connect issuers whose access tokens are accepted too.</summary>
    public List<ExternalIssuer> ExternalIssuers { get; set; } = [];

    /// <summary>How long an external issuer's key set is used before it is fetched again.</summary>
    public TimeSpan JwksRefreshInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>After a failed fetch, and between fetches for tokens with an unknown <c>kid</c> (a rotated key):
    /// the least time before the key set is asked for again.</summary>
    public TimeSpan JwksRetryInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one fetch of a key set may take; logins with that issuer's tokens wait at most this long.</summary>
    public TimeSpan JwksFetchTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary><c>POST /v1/auth/register</c> calls per source address per minute (each costs a slow hash).</summary>
    public int RegistrationsPerMinute { get; set; } = 10;

    /// <summary>Failed password checks per source address per minute (MQTT and the token endpoint), beyond which
    /// that address's password checks are refused unchecked until the budget refills.</summary>
    public int FailedLoginsPerMinute { get; set; } = 60;
}

/// <summary>An external OpenID Connect issuer (Keycloak, Auth0, Azure AD, …).</summary>
public sealed class ExternalIssuer
{
    public string Issuer { get; set; } = "";
    public string Audience { get; set; } = "";

    /// <summary>The issuer's JSON Web Key Set URL.</summary>
    public string JwksUrl { get; set; } = "";

    /// <summary>The claim that carries the ImOrleans user id.</summary>
    public string UserClaim { get; set; } = "sub";
}
