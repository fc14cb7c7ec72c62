using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ImOrleans.Tools.LoadGen.Targets;

/// <summary>Signs ImOrleans access tokens as its token endpoint does (HS256, issuer and audience "imorleans",
/// <c>token_use: access</c>) with the key the benchmark hands the server as <c>Auth:SigningKey</c>. Why not the
/// endpoint: every password check costs the server a 100 000-round PBKDF2, so a thousand logins would take minutes
/// of setup and measure nothing about the delivery path. Connecting with these tokens costs the server exactly
/// what connecting with the endpoint's tokens costs. The idle-connection scenario does use the endpoint.</summary>
public sealed class TokenMinter(byte[] key)
{
    public string Mint(string user)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Encode(new Dictionary<string, object> { ["alg"] = "HS256", ["typ"] = "JWT", ["kid"] = "imorleans-1" });
        var payload = Encode(new Dictionary<string, object>
        {
            ["iss"] = "imorleans", ["aud"] = "imorleans", ["sub"] = user, ["token_use"] = "access",
            ["jti"] = Guid.NewGuid().ToString("N"), ["iat"] = now, ["nbf"] = now, ["exp"] = now + 3600,
        });
        var signature = HMACSHA256.HashData(key, Encoding.ASCII.GetBytes($"{header}.{payload}"));
        return $"{header}.{payload}.{Base64Url.EncodeToString(signature)}";
    }

    private static string Encode(Dictionary<string, object> json) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(json));
}
