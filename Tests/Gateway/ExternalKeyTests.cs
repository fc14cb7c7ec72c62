using System.Diagnostics;
using ImOrleans.Tests.Infrastructure;
using Microsoft.IdentityModel.Tokens;
using MQTTnet;

namespace ImOrleans.Tests.Gateway;

/// <summary>Keys of external token issuers: a rotated key is picked up at once, and an issuer whose key set fails
/// or hangs costs one bounded fetch now and then, not one per login. A server of its own, with three issuers
/// (one per behaviour) and short intervals; password login is off, so a refused token costs nothing else.</summary>
[TestClass]
public sealed class ExternalKeyTests
{
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(2);

    private static readonly JwksServer Rotating = new("https://rotating.example.test");
    private static readonly JwksServer Failing = new("https://failing.example.test") { Mode = JwksServer.Behaviour.Fail };
    private static readonly JwksServer Hanging = new("https://hanging.example.test") { Mode = JwksServer.Behaviour.Hang };
    private static SiloProcess _silo = null!;
    private static OrleansClient _orleans = null!;

    [ClassInitialize]
    public static async Task Init(TestContext _)
    {
        JwksServer[] issuers = [Rotating, Failing, Hanging];
        _silo = await SiloProcess.StartAsync(TempDirectory.Create("jwks"), [
            "--Gateway:PasswordLogin=false",
            $"--Auth:JwksFetchTimeout={FetchTimeout}", $"--Auth:JwksRetryInterval={RetryInterval}",
            .. issuers.SelectMany((s, i) => new[]
            {
                $"--Auth:ExternalIssuers:{i}:Issuer={s.IssuerName}", $"--Auth:ExternalIssuers:{i}:Audience={JwksServer.Audience}",
                $"--Auth:ExternalIssuers:{i}:JwksUrl={s.JwksUrl}",
            })]);
        _orleans = await OrleansClient.ConnectAsync(_silo.GatewayPort);
    }

    [ClassCleanup]
    public static async Task Cleanup()
    {
        await _orleans.DisposeAsync();
        await _silo.DisposeAsync();
        foreach (var s in new[] { Rotating, Failing, Hanging })
            s.Dispose();
    }

    private static async Task<string> NewUserAsync() => await Chat.NewUserAsync(_orleans.Client, "x");

    private static async Task<MqttClientConnectResultCode> ConnectAsync(string user, string token)
    {
        await using var c = await MqttTestClient.ConnectAsync(_silo.MqttPort, user, "phone", token, subscribe: false);
        return c.ConnectResult.ResultCode;
    }

    [TestMethod]
    public async Task RotatedSigningKeyIsAcceptedWithoutWaitingOutTheCache()
    {
        var alice = await NewUserAsync();
        Assert.AreEqual(MqttClientConnectResultCode.Success, await ConnectAsync(alice, Rotating.CreateToken(alice)), "the first key works");

        Rotating.Rotate();

        // An unknown kid makes the gateway fetch the set again, at most once per retry interval.
        await Eventually.TrueAsync(async () => await ConnectAsync(alice, Rotating.CreateToken(alice)) == MqttClientConnectResultCode.Success,
            "a token signed with the new key logs in", (int)(RetryInterval * 4).TotalMilliseconds);
    }

    [TestMethod]
    public async Task TokensWithUnknownKeyIdsRefetchTheKeySetAtMostOncePerInterval()
    {
        var alice = await NewUserAsync();
        Assert.AreEqual(MqttClientConnectResultCode.Success, await ConnectAsync(alice, Rotating.CreateToken(alice)));
        var before = Rotating.Requests;
        var clock = Stopwatch.StartNew();

        using var stranger = System.Security.Cryptography.RSA.Create(2048);
        for (var i = 0; i < 20; i++)
        {
            var forged = Rotating.CreateToken(alice, key: new RsaSecurityKey(stranger) { KeyId = $"forged-{i}" });
            Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, await ConnectAsync(alice, forged));
        }

        var allowed = 1 + (int)Math.Ceiling(clock.Elapsed / RetryInterval);
        Assert.IsLessThanOrEqualTo(allowed, Rotating.Requests - before, $"20 unknown kids in {clock.Elapsed} may refetch at most {allowed} times");
    }

    [TestMethod]
    public async Task FailingKeySetIsNotFetchedAgainOnEveryLogin()
    {
        var alice = await NewUserAsync();
        var clock = Stopwatch.StartNew();

        for (var i = 0; i < 20; i++)
            Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, await ConnectAsync(alice, Failing.CreateToken(alice)));

        var allowed = 1 + (int)Math.Ceiling(clock.Elapsed / RetryInterval);
        Assert.IsGreaterThanOrEqualTo(1, Failing.Requests, "the key set was asked for");
        Assert.IsLessThanOrEqualTo(allowed, Failing.Requests, $"20 logins in {clock.Elapsed} against a failing key set may fetch at most {allowed} times");
    }

    [TestMethod]
    public async Task HangingKeySetHoldsLoginsUpOnlyForTheFetchTimeoutAndIsAskedOnce()
    {
        var alice = await NewUserAsync();
        var clock = Stopwatch.StartNew();

        var results = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => ConnectAsync(alice, Hanging.CreateToken(alice))))
            .WaitAsync(TimeSpan.FromSeconds(20));

        Assert.IsTrue(results.All(r => r == MqttClientConnectResultCode.BadUserNameOrPassword), string.Join(", ", results));
        Assert.IsLessThan(FetchTimeout + TimeSpan.FromSeconds(5), clock.Elapsed, "refused soon after the fetch timed out");
        Assert.AreEqual(1, Hanging.Requests, "five logins at once share one fetch");
    }
}
