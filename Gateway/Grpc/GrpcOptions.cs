namespace ImOrleans.Gateway.Grpc;

/// <summary>The internal gRPC API, bound from the <c>Grpc</c> configuration section.</summary>
public sealed class GrpcOptions
{
    public const string Section = "Grpc";

    /// <summary>HTTP/2 (h2c) port of the API, on <c>Gateway:Address</c>; 0 turns the API off.
    /// Its own port because a cleartext Kestrel endpoint speaks either HTTP/1.1 or HTTP/2, not both.</summary>
    public int Port { get; set; } = 5001;

    /// <summary>Keys a caller may send in the <c>x-api-key</c> header. With none, every API call is refused
    /// (health and reflection still answer). Re-read when the configuration changes, so keys rotate without a restart.</summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>The longest access token <c>Users.IssueToken</c> hands out.</summary>
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromHours(24);
}
