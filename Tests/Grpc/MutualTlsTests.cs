using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using ImOrleans.Gateway.Grpc.V1;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Grpc;

/// <summary>The API port with TLS and client certificates from a configured CA (a server process of its own).</summary>
[TestClass]
public sealed class MutualTlsTests
{
    private static readonly TestCertificates Certificates = new();
    private static SiloProcess _silo = null!;

    [ClassInitialize]
    public static async Task Init(TestContext _)
    {
        var data = TempDirectory.Create("mtls");
        _silo = await SiloProcess.StartAsync(data,
            $"--Grpc:TlsCertificatePath={Certificates.WriteServerPfx(data)}", $"--Grpc:TlsCertificatePassword={TestCertificates.Password}",
            $"--Grpc:ClientCaPath={Certificates.WriteCaPem(data)}");
    }

    [ClassCleanup]
    public static async Task Cleanup()
    {
        if (_silo is not null)
            await _silo.DisposeAsync();
        Certificates.Dispose();
    }

    private static Users.UsersClient Client(X509Certificate2? certificate, out GrpcChannel channel)
    {
        var handler = new SocketsHttpHandler();
        // The test server's certificate is issued by the test CA, which this machine does not trust.
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        if (certificate is not null)
            handler.SslOptions.ClientCertificates = [certificate];
        channel = GrpcChannel.ForAddress($"https://127.0.0.1:{_silo.GrpcPort}", new GrpcChannelOptions { HttpHandler = handler });
        return new Users.UsersClient(channel);
    }

    [TestMethod]
    public async Task TrustedClientCertificateNeedsNoApiKey()
    {
        using var certificate = Certificates.IssueClient("crm-service");
        var users = Client(certificate, out var channel);
        using var _ = channel;
        var user = Unique.User("mtls");

        var created = await users.CreateUserAsync(new CreateUserRequest { User = user, Password = Chat.Password });

        Assert.AreEqual(user, created.Id);
    }

    [TestMethod]
    public async Task WithoutCertificateOrKeyTheCallIsRefused()
    {
        var users = Client(null, out var channel);
        using var _ = channel;

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await users.GetUserAsync(new GetUserRequest { User = "nobody" }));

        Assert.AreEqual(StatusCode.Unauthenticated, ex.StatusCode);
    }

    [TestMethod]
    [DataRow(true, DisplayName = "server certificate")]
    [DataRow(false, DisplayName = "no extended key usage")]
    public async Task CertificateOfTheCaThatIsNotForClientAuthenticationIsRefused(bool serverAuth)
    {
        using var certificate = Certificates.IssueNotForClients("web-server", serverAuth);
        var users = Client(certificate, out var channel);
        using var _ = channel;

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await users.GetUserAsync(new GetUserRequest { User = "nobody" }));

        Assert.AreNotEqual(StatusCode.NotFound, ex.StatusCode, "the call must not reach the service");
    }

    [TestMethod]
    public async Task CertificateFromAnotherCaIsRefused()
    {
        using var strangers = new TestCertificates("Some other CA");
        using var certificate = strangers.IssueClient("impostor");
        var users = Client(certificate, out var channel);
        using var _ = channel;

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await users.GetUserAsync(new GetUserRequest { User = "nobody" }));

        Assert.AreNotEqual(StatusCode.OK, ex.StatusCode);
        Assert.AreNotEqual(StatusCode.NotFound, ex.StatusCode, "the call must not reach the service");
    }
}
