using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ImOrleans.Tests.Infrastructure;

/// <summary>A stand-in external OpenID Connect issuer: serves its JSON Web Key Set over real HTTP on loopback,
/// and signs tokens with the matching RSA key. It can rotate its key, fail, or hang, and counts the fetches.</summary>
public sealed class JwksServer : IDisposable
{
    public const string Issuer = "https://idp.example.test";
    public const string Audience = "im-app";

    /// <summary>How the server answers a fetch of its key set.</summary>
    public enum Behaviour { Serve, Fail, Hang }

    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<RSA> _keys = [];
    private int _requests;

    public string JwksUrl { get; }
    public string IssuerName { get; }

    /// <summary>The current signing key (the newest after a rotation).</summary>
    public RsaSecurityKey SigningKey { get; private set; } = null!;

    public Behaviour Mode { get; set; } = Behaviour.Serve;

    /// <summary>Fetches of the key set so far, answered or not.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public JwksServer(string issuer = Issuer)
    {
        IssuerName = issuer;
        var port = FreePort.Next();
        JwksUrl = $"http://127.0.0.1:{port}/jwks";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        Rotate();
        _ = Task.Run(ServeAsync);
    }

    /// <summary>A new key with a new <c>kid</c> signs from now on; the set publishes it beside the old ones.</summary>
    public void Rotate()
    {
        lock (_keys)
        {
            var rsa = RSA.Create(2048);
            _keys.Add(rsa);
            SigningKey = new RsaSecurityKey(rsa) { KeyId = $"idp-key-{_keys.Count}" };
        }
    }

    /// <summary>An access token of this issuer for <paramref name="user"/>, signed with the current key unless another is given.</summary>
    public string CreateToken(string user, string audience = Audience, SecurityKey? key = null) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = IssuerName,
        Audience = audience,
        Subject = new ClaimsIdentity([new Claim("sub", user)]),
        Expires = DateTime.UtcNow.AddMinutes(30),
        SigningCredentials = new SigningCredentials(key ?? SigningKey, SecurityAlgorithms.RsaSha256),
    });

    private byte[] KeySet()
    {
        lock (_keys)
        {
            var jwks = _keys.Select((rsa, i) =>
            {
                var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)) { KeyId = $"idp-key-{i + 1}" });
                return $"{{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\",\"kid\":\"{jwk.Kid}\",\"n\":\"{jwk.N}\",\"e\":\"{jwk.E}\"}}";
            });
            return System.Text.Encoding.UTF8.GetBytes($"{{\"keys\":[{string.Join(",", jwks)}]}}");
        }
    }

    private async Task ServeAsync()
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
            Interlocked.Increment(ref _requests);
            switch (Mode)
            {
                case Behaviour.Serve:
                    ctx.Response.ContentType = "application/json";
                    await ctx.Response.OutputStream.WriteAsync(KeySet());
                    ctx.Response.Close();
                    break;
                case Behaviour.Fail:
                    ctx.Response.StatusCode = 503;
                    ctx.Response.Close();
                    break;
                case Behaviour.Hang: // holds the request open until the server stops
                    _ = Task.Delay(Timeout.Infinite, _stop.Token).ContinueWith(_ => ctx.Response.Abort(), TaskScheduler.Default);
                    break;
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_keys)
        {
            foreach (var rsa in _keys)
                rsa.Dispose();
        }
    }
}
