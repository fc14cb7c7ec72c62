using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace ImOrleans.Tests.Infrastructure;

/// <summary>One real embedded server process (<c>Silo</c> with its gateway) shared by the MQTT and HTTP tests,
/// with small limits so that they can be hit cheaply.</summary>
public static class GatewayFixture
{
    public const int MaxPayloadBytes = 4096;
    public const int MaxDevicesPerUser = 3;
    public const int RateBurst = 40;
    public const int RatePerSecond = 20;
    public const int DeliveryWindow = 50;
    public const int MaxSyncBytes = 8192;

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static SiloProcess? _silo;

    /// <summary>The external identity provider the fixture's gateway trusts.</summary>
    public static JwksServer ExternalIssuer { get; } = new();

    public static int MqttTlsPort { get; private set; }
    public static readonly HttpClient Http = new();

    public static async Task<SiloProcess> SiloAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_silo is null)
            {
                var data = TempDirectory.Create("gw");
                MqttTlsPort = FreePort.Next();
                using var certificates = new TestCertificates();
                _silo = await SiloProcess.StartAsync(data,
                    $"--Gateway:MaxPayloadBytes={MaxPayloadBytes}", $"--Limits:MaxDevicesPerUser={MaxDevicesPerUser}",
                    $"--Gateway:RateBurst={RateBurst}", $"--Gateway:RatePerSecond={RatePerSecond}", $"--Gateway:DeliveryWindow={DeliveryWindow}",
                    $"--Gateway:MqttTlsPort={MqttTlsPort}", $"--Gateway:TlsCertificatePath={certificates.WriteServerPfx(data)}",
                    $"--Gateway:TlsCertificatePassword={TestCertificates.Password}",
                    $"--Auth:ExternalIssuers:0:Issuer={JwksServer.Issuer}", $"--Auth:ExternalIssuers:0:Audience={JwksServer.Audience}",
                    $"--Auth:ExternalIssuers:0:JwksUrl={ExternalIssuer.JwksUrl}", $"--Limits:MaxSyncBytes={MaxSyncBytes}",
                    // Every test registers and logs in from loopback: the per-address limits get their own tests.
                    "--Auth:RegistrationsPerMinute=1000000", "--Grpc:Reflection=true", "--Auth:FailedLoginsPerMinute=1000000");
            }
            return _silo;
        }
        finally
        {
            Gate.Release();
        }
    }

    public static async Task DisposeAsync()
    {
        if (_silo is not null)
            await _silo.DisposeAsync();
        ExternalIssuer.Dispose();
    }

    /// <summary>Registers a fresh user over HTTP, as an app would.</summary>
    public static async Task<string> RegisterAsync(string prefix = "m") => await HttpAccounts.RegisterAsync(await SiloAsync(), prefix);

    public static async Task<MqttTestClient> ConnectAsync(string user, string device,
        MQTTnet.Formatter.MqttProtocolVersion version = MQTTnet.Formatter.MqttProtocolVersion.V500, string? password = null)
    {
        var silo = await SiloAsync();
        var client = await MqttTestClient.ConnectAsync(silo.MqttPort, user, device, password ?? Chat.Password, version);
        Assert.AreEqual(MQTTnet.MqttClientConnectResultCode.Success, client.ConnectResult.ResultCode, client.ConnectResult.ReasonString);
        return client;
    }

    /// <summary>Creates a conversation through the RPC of <paramref name="creator"/> and returns its id.</summary>
    public static async Task<string> CreateConversationAsync(MqttTestClient creator, string kind, params string[] members)
    {
        var result = await creator.CallAsync("conv.create", new JsonObject
        {
            ["kind"] = kind,
            ["members"] = new JsonArray(members.Select(m => (JsonNode)m).ToArray()),
            ["title"] = kind == "group" ? "test" : null,
        });
        return (string)result!["conv"]!;
    }
}
