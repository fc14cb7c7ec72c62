using System.Security.Cryptography.X509Certificates;

namespace ImOrleans.Gateway.Grpc;

/// <summary>Mutual TLS for the API: a client certificate is accepted when it chains to the configured CA
/// (and only that CA: the system's trusted roots do not count).</summary>
public sealed class ClientCertificates(X509Certificate2 ca)
{
    public static ClientCertificates Load(string caPemPath) =>
        new(X509Certificate2.CreateFromPem(File.ReadAllText(caPemPath)));

    public bool IsTrusted(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
