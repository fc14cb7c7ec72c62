using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ImOrleans.Gateway.Auth;

/// <summary>A pair of tokens as the token endpoint returns them.</summary>
public sealed record IssuedTokens(string AccessToken, string RefreshToken, int ExpiresIn);

/// <summary>Issues access and refresh tokens (JWT, HS256) and validates access tokens from this gateway
/// and from configured external OpenID Connect issuers.</summary>
public sealed class TokenService(IOptions<AuthOptions> options, SigningKeyProvider keys, ExternalKeys externalKeys)
{
    private const string TokenUseClaim = "token_use";
    private const string AccessUse = "access";
    private const string RefreshUse = "refresh";

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = true };
    private AuthOptions O => options.Value;

    public IssuedTokens Issue(string user)
    {
        var access = Create(user, AccessUse, O.AccessTokenLifetime);
        var refresh = Create(user, RefreshUse, O.RefreshTokenLifetime);
        return new IssuedTokens(access, refresh, (int)O.AccessTokenLifetime.TotalSeconds);
    }

    public string IssueAccessToken(string user, TimeSpan lifetime) => Create(user, AccessUse, lifetime);

    /// <summary>The user id of a valid access token, or null.</summary>
    public async Task<string?> ValidateAccessTokenAsync(string token)
    {
        var own = await _handler.ValidateTokenAsync(token, OwnParameters());
        if (own.IsValid)
            return SubjectIf(own, AccessUse);

        // Only the issuer the token names is asked for keys: a made-up token must not make every issuer's set be fetched.
        if (!_handler.CanReadToken(token))
            return null;
        JsonWebToken unverified;
        try
        {
            unverified = _handler.ReadJsonWebToken(token);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenException)
        {
            return null;
        }
        foreach (var issuer in O.ExternalIssuers.Where(i => i.Issuer == unverified.Issuer))
        {
            var result = await _handler.ValidateTokenAsync(token, new TokenValidationParameters
            {
                ValidIssuer = issuer.Issuer,
                ValidAudience = issuer.Audience,
                IssuerSigningKeys = await externalKeys.GetAsync(issuer, unverified.Kid),
                RequireSignedTokens = true,
                RequireExpirationTime = true,
                ClockSkew = TimeSpan.FromSeconds(30),
            });
            if (result.IsValid)
                return result.Claims.TryGetValue(issuer.UserClaim, out var user) ? user as string : null;
        }
        return null;
    }

    /// <summary>The user id of a valid refresh token, or null.</summary>
    public async Task<string?> ValidateRefreshTokenAsync(string token)
    {
        var result = await _handler.ValidateTokenAsync(token, OwnParameters());
        return result.IsValid ? SubjectIf(result, RefreshUse) : null;
    }

    /// <summary>The subject of one of our own valid tokens when it is of the given use. Read from the token's payload:
    /// asking the result for its claims would build a claims identity and a dictionary of them on every connect.</summary>
    private static string? SubjectIf(TokenValidationResult valid, string use) =>
        valid.SecurityToken is JsonWebToken jwt && jwt.TryGetPayloadValue<string>(TokenUseClaim, out var actual) && actual == use
            && jwt.Subject.Length > 0
            ? jwt.Subject
            : null;

    private string Create(string user, string use, TimeSpan lifetime) => _handler.CreateToken(new SecurityTokenDescriptor
    {
        Issuer = O.Issuer,
        Audience = O.Audience,
        Subject = new ClaimsIdentity([new Claim(JwtRegisteredClaimNames.Sub, user), new Claim(TokenUseClaim, use),
            new Claim(JwtRegisteredClaimNames.Jti, Guid.NewGuid().ToString("N"))]),
        Expires = DateTime.UtcNow.Add(lifetime),
        SigningCredentials = new SigningCredentials(keys.Key, SecurityAlgorithms.HmacSha256),
    });

    // Signed tokens only (so "alg": "none" never passes), with an expiry, for our issuer and audience. Made once: the
    // handler copies what it changes, and neither the options nor the key change while the gateway runs.
    private TokenValidationParameters? _own;

    private TokenValidationParameters OwnParameters() => _own ??= new()
    {
        ValidIssuer = O.Issuer,
        ValidAudience = O.Audience,
        IssuerSigningKey = keys.Key,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ClockSkew = TimeSpan.FromSeconds(30),
    };
}
