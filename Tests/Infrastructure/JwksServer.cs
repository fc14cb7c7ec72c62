using System.Net;
using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace ImOrleans.Tests.Infrastructure;

/// <summary>A stand-in external OpenID Connect issuer: serves its JSON Web Key Set over real HTTP on loopback,
/// and signs tokens with the matching RSA key.</summary>
public sealed class JwksServer : IDisposable
{
    public const string Issuer = "https://idp.example.test";
    public const string Audience = "im-app";

    private readonly HttpListener _listener = new();
    private readonly RSA _rsa = RSA.Create(2048);

    public string JwksUrl { get; }
    public RsaSecurityKey SigningKey { get; }

    public JwksServer()
    {
        var port = FreePort.Next();
        JwksUrl = $"http://127.0.0.1:{port}/jwks";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        SigningKey = new RsaSecurityKey(_rsa) { KeyId = "idp-key-1" };
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_rsa.ExportParameters(false)) { KeyId = "idp-key-1" });
        var body = System.Text.Encoding.UTF8.GetBytes(
            $"{{\"keys\":[{{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\",\"kid\":\"{jwk.Kid}\",\"n\":\"{jwk.N}\",\"e\":\"{jwk.E}\"}}]}}");
        _ = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try
                {
                    ctx = await _listener.GetContextAsync();
                }
                catch (Exception) when (!_listener.IsListening)
                {
                    return;
                }
                ctx.Response.ContentType = "application/json";
                await ctx.Response.OutputStream.WriteAsync(body);
                ctx.Response.Close();
            }
        });
    }

    public void Dispose()
    {
        _listener.Stop();
        _rsa.Dispose();
    }
}
