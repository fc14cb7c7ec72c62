using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ImOrleans.Gateway.Grpc;

/// <summary>Mutual TLS for the API: a client certificate is accepted when it is issued for client authentication
/// (its extended key usage says so) and chains to the configured CA (and only that CA: the system's trusted roots
/// do not count).</summary>
public sealed class ClientCertificates(X509Certificate2 ca)
{
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    public static ClientCertificates Load(string caPemPath) =>
        new(X509Certificate2.CreateFromPem(File.ReadAllText(caPemPath)));

    public bool IsTrusted(X509Certificate2 certificate)
    {
        // The usage must be named: a CA that also issues server certificates (or certificates with no usage at
        // all, which chain building takes as good for anything) must not turn each of them into an API login.
        if (!IsForClientAuthentication(certificate))
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ClientAuthentication)); // intermediates must allow it too
        return chain.Build(certificate);
    }

    private static bool IsForClientAuthentication(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>()
            .Any(e => e.EnhancedKeyUsages.Cast<Oid>().Any(u => u.Value == ClientAuthentication));
}
