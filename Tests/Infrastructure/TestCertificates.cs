using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ImOrleans.Tests.Infrastructure;

/// <summary>A throwaway CA and certificates it signs, for the TLS and mutual-TLS tests.</summary>
public sealed class TestCertificates : IDisposable
{
    public const string Password = "test-pfx";

    private readonly RSA _caKey = RSA.Create(2048);

    public X509Certificate2 Ca { get; }

    public TestCertificates(string name = "ImOrleans test CA")
    {
        var request = new CertificateRequest($"CN={name}", _caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        Ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>Writes the CA as PEM (what a server trusts).</summary>
    public string WriteCaPem(string directory)
    {
        var path = Path.Combine(directory, "client-ca.pem");
        File.WriteAllText(path, Ca.ExportCertificatePem());
        return path;
    }

    /// <summary>A certificate for 127.0.0.1 signed by the CA, with its key, written as a PFX for a server.</summary>
    public string WriteServerPfx(string directory)
    {
        var path = Path.Combine(directory, "server.pfx");
        File.WriteAllBytes(path, Issue("CN=localhost", serverAuth: true).Export(X509ContentType.Pfx, Password));
        return path;
    }

    /// <summary>A client certificate signed by the CA, with its key.</summary>
    public X509Certificate2 IssueClient(string name) => Issue($"CN={name}", serverAuth: false);

    /// <summary>A certificate signed by the CA, with its key, that is not for client authentication: a server
    /// certificate (server-authentication usage only), or one with no extended key usage at all.</summary>
    public X509Certificate2 IssueNotForClients(string name, bool serverAuth) => Issue($"CN={name}", serverAuth, usages: serverAuth);

    private X509Certificate2 Issue(string subject, bool serverAuth, bool usages = true)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        if (usages)
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                [serverAuth ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        }
        if (serverAuth)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName("localhost");
            request.CertificateExtensions.Add(san.Build());
        }
        using var signed = request.Create(Ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), RandomNumberGenerator.GetBytes(12));
        // Round-trip through PKCS#12 so the key is usable by TLS on every platform.
        return X509CertificateLoader.LoadPkcs12(signed.CopyWithPrivateKey(key).Export(X509ContentType.Pfx, Password), Password);
    }

    public void Dispose()
    {
        Ca.Dispose();
        _caKey.Dispose();
    }
}
