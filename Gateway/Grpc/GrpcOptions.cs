namespace ImOrleans.Gateway.Grpc;

/// <summary>The internal gRPC API, bound from the <c>Grpc</c> configuration section.</summary>
public sealed class GrpcOptions
{
    public const string Section = "Grpc";

    /// <summary>HTTP/2 (h2c) port of the API, on <c>Gateway:Address</c>; 0 turns the API off.
    /// Its own port because a cleartext Kestrel endpoint speaks either HTTP/1.1 or HTTP/2, not both.</summary>
    public int Port { get; set; } = 5001;

    /// <summary>Serve gRPC server reflection (for grpcurl and similar tools); off unless configured (on in Development).</summary>
    public bool Reflection { get; set; }

    /// <summary>Keys a caller may send in the <c>x-api-key</c> header. With none, every API call is refused
    /// (health and reflection still answer). Re-read when the configuration changes, so keys rotate without a restart.</summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>PFX certificate for the API port; when set the port speaks TLS (HTTP/2 over ALPN) instead of h2c.</summary>
    public string? TlsCertificatePath { get; set; }
    public string? TlsCertificatePassword { get; set; }

    /// <summary>PEM file of the CA whose client certificates are trusted (mutual TLS, needs
    /// <see cref="TlsCertificatePath"/>). A caller with such a certificate needs no API key.</summary>
    public string? ClientCaPath { get; set; }

    /// <summary>The longest access token <c>Users.IssueToken</c> hands out.</summary>
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromHours(24);
}
