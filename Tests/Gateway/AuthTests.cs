using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text;
using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using MQTTnet;

namespace ImOrleans.Tests.Gateway;

/// <summary>Registration, the OAuth 2.0 token endpoint and token logins, over real HTTP and MQTT.</summary>
[TestClass]
public sealed class AuthTests
{
    private static HttpClient Http => GatewayFixture.Http;

    private static async Task<(HttpStatusCode Status, JsonObject Body)> TokenAsync(params (string Key, string Value)[] form)
    {
        var silo = await GatewayFixture.SiloAsync();
        var response = await Http.PostAsync($"{silo.HttpBase}/v1/auth/token",
            new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    private static async Task<MqttClientConnectResultCode> ConnectWithTokenAsync(string user, string token)
    {
        var silo = await GatewayFixture.SiloAsync();
        await using var c = await MqttTestClient.ConnectAsync(silo.MqttPort, user, "phone", token, subscribe: false);
        return c.ConnectResult.ResultCode;
    }

    [TestMethod]
    public async Task RegisteringATakenNameGives409AndABadNameOrPassword400()
    {
        var silo = await GatewayFixture.SiloAsync();
        var alice = await GatewayFixture.RegisterAsync();

        var taken = await Http.PostAsJsonAsync($"{silo.HttpBase}/v1/auth/register", new { user = alice, password = Chat.Password });
        var badName = await Http.PostAsJsonAsync($"{silo.HttpBase}/v1/auth/register", new { user = "Not Valid", password = Chat.Password });
        var weak = await Http.PostAsJsonAsync($"{silo.HttpBase}/v1/auth/register", new { user = Unique.User(), password = "123" });
        var garbage = await Http.PostAsync($"{silo.HttpBase}/v1/auth/register", new StringContent("{oops", Encoding.UTF8, "application/json"));

        Assert.AreEqual(HttpStatusCode.Conflict, taken.StatusCode);
        Assert.AreEqual(HttpStatusCode.BadRequest, badName.StatusCode);
        StringAssert.Contains(await badName.Content.ReadAsStringAsync(), "invalid_id");
        Assert.AreEqual(HttpStatusCode.BadRequest, weak.StatusCode);
        StringAssert.Contains(await weak.Content.ReadAsStringAsync(), "weak_password");
        Assert.AreEqual(HttpStatusCode.BadRequest, garbage.StatusCode);
    }

    [TestMethod]
    public async Task PasswordGrantGivesTokensThatLogInAndRefresh()
    {
        var alice = await GatewayFixture.RegisterAsync();

        var (status, body) = await TokenAsync(("grant_type", "password"), ("username", alice), ("password", Chat.Password));
        Assert.AreEqual(HttpStatusCode.OK, status, body.ToJsonString());
        Assert.AreEqual("Bearer", (string?)body["token_type"]);
        Assert.IsTrue((int?)body["expires_in"] > 0);
        Assert.AreEqual(MqttClientConnectResultCode.Success, await ConnectWithTokenAsync(alice, (string)body["access_token"]!));

        var (refreshStatus, refreshed) = await TokenAsync(("grant_type", "refresh_token"), ("refresh_token", (string)body["refresh_token"]!));
        Assert.AreEqual(HttpStatusCode.OK, refreshStatus, refreshed.ToJsonString());
        Assert.AreEqual(MqttClientConnectResultCode.Success, await ConnectWithTokenAsync(alice, (string)refreshed["access_token"]!));
    }

    [TestMethod]
    public async Task TokenEndpointErrorsFollowRfc6749()
    {
        var alice = await GatewayFixture.RegisterAsync();
        var silo = await GatewayFixture.SiloAsync();

        var wrong = await TokenAsync(("grant_type", "password"), ("username", alice), ("password", "nope nope"));
        var unsupported = await TokenAsync(("grant_type", "client_credentials"));
        var missing = await TokenAsync(("username", alice));
        var refreshAsAccess = await TokenAsync(("grant_type", "refresh_token"), ("refresh_token", "not.a.token"));
        var json = await Http.PostAsJsonAsync($"{silo.HttpBase}/v1/auth/token", new { grant_type = "password" });

        Assert.AreEqual((HttpStatusCode.BadRequest, "invalid_grant"), (wrong.Status, (string?)wrong.Body["error"]));
        Assert.AreEqual("unsupported_grant_type", (string?)unsupported.Body["error"]);
        Assert.AreEqual("invalid_request", (string?)missing.Body["error"]);
        Assert.AreEqual("invalid_grant", (string?)refreshAsAccess.Body["error"]);
        Assert.AreEqual(HttpStatusCode.BadRequest, json.StatusCode);
        StringAssert.Contains(await json.Content.ReadAsStringAsync(), "invalid_request");
    }

    [TestMethod]
    public async Task RefreshTokenIsNotAnAccessToken()
    {
        var alice = await GatewayFixture.RegisterAsync();
        var (_, body) = await TokenAsync(("grant_type", "password"), ("username", alice), ("password", Chat.Password));
        Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, await ConnectWithTokenAsync(alice, (string)body["refresh_token"]!));
    }

    [TestMethod]
    public async Task AnotherUsersTokenIsRefused()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        var (_, body) = await TokenAsync(("grant_type", "password"), ("username", bob), ("password", Chat.Password));
        Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, await ConnectWithTokenAsync(alice, (string)body["access_token"]!));
    }

    [TestMethod]
    public async Task ForgedExpiredUnsignedAndForeignAudienceTokensAreRefused()
    {
        var alice = await GatewayFixture.RegisterAsync();
        var silo = await GatewayFixture.SiloAsync();
        var realKey = Convert.FromBase64String(await File.ReadAllTextAsync(Path.Combine(silo.DataDirectory, "data", "jwt-signing.key")));

        string Sign(byte[] key, string audience, DateTime expires) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "imorleans",
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", alice), new Claim("token_use", "access")]),
            NotBefore = expires.AddHours(-2),
            IssuedAt = expires.AddHours(-2),
            Expires = expires,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256),
        });
        var forged = Sign(new byte[32], "imorleans", DateTime.UtcNow.AddHours(1));
        var expired = Sign(realKey, "imorleans", DateTime.UtcNow.AddMinutes(-10));
        var foreignAudience = Sign(realKey, "someone-else", DateTime.UtcNow.AddHours(1));
        var valid = Sign(realKey, "imorleans", DateTime.UtcNow.AddHours(1));
        var header = Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        var payload = Base64UrlEncoder.Encode($"{{\"iss\":\"imorleans\",\"aud\":\"imorleans\",\"sub\":\"{alice}\",\"token_use\":\"access\",\"exp\":{DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds()}}}");
        var unsigned = $"{header}.{payload}.";

        Assert.AreEqual(MqttClientConnectResultCode.Success, await ConnectWithTokenAsync(alice, valid), "the control token is accepted");
        Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, await ConnectWithTokenAsync(alice, forged), "forged");
        Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, await ConnectWithTokenAsync(alice, expired), "expired");
        Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, await ConnectWithTokenAsync(alice, foreignAudience), "wrong audience");
        Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, await ConnectWithTokenAsync(alice, unsigned), "alg none");
    }
}

/// <summary>Tokens from an external OpenID Connect issuer (keys from its JWKS URL), and the TLS listener.</summary>
[TestClass]
public sealed class ExternalIssuerAndTlsTests
{
    private static string ExternalToken(string user, string audience, SecurityKey key) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = JwksServer.Issuer,
        Audience = audience,
        Subject = new ClaimsIdentity([new Claim("sub", user)]),
        Expires = DateTime.UtcNow.AddMinutes(30),
        SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
    });

    private static async Task<MqttClientConnectResultCode> ConnectAsync(string user, string token)
    {
        var silo = await GatewayFixture.SiloAsync();
        await using var c = await MqttTestClient.ConnectAsync(silo.MqttPort, user, "phone", token, subscribe: false);
        return c.ConnectResult.ResultCode;
    }

    [TestMethod]
    public async Task TokenFromTheConfiguredExternalIssuerLogsIn()
    {
        var alice = await GatewayFixture.RegisterAsync();
        Assert.AreEqual(MqttClientConnectResultCode.Success,
            await ConnectAsync(alice, ExternalToken(alice, JwksServer.Audience, GatewayFixture.ExternalIssuer.SigningKey)));
    }

    [TestMethod]
    public async Task ExternalTokenWithWrongAudienceOrUnknownKeyIsRefused()
    {
        var alice = await GatewayFixture.RegisterAsync();
        using var stranger = System.Security.Cryptography.RSA.Create(2048);

        var wrongAudience = ExternalToken(alice, "another-app", GatewayFixture.ExternalIssuer.SigningKey);
        var unknownKey = ExternalToken(alice, JwksServer.Audience, new RsaSecurityKey(stranger) { KeyId = "idp-key-1" });

        Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, await ConnectAsync(alice, wrongAudience));
        Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, await ConnectAsync(alice, unknownKey));
    }

    [TestMethod]
    public async Task TlsListenerServesMqtt()
    {
        var alice = await GatewayFixture.RegisterAsync();
        await GatewayFixture.SiloAsync();
        await using var secure = await MqttTestClient.ConnectAsync(GatewayFixture.MqttTlsPort, alice, "secure", Chat.Password, tls: true);

        Assert.AreEqual(MqttClientConnectResultCode.Success, secure.ConnectResult.ResultCode);
        Assert.IsNotNull(await secure.CallAsync("contacts.list"));
    }
}
