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
