using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using ImOrleans.Gateway.Grpc.V1;

namespace ImOrleans.ImCtl;

/// <summary>One HTTP/2 channel to the server with the API key on every call, and the clients of each service.</summary>
public sealed class Connection : IDisposable
{
    public const string ApiKeyHeader = "x-api-key";

    /// <summary>The trailer in which the server names the domain error code (not_found, not_member, …).</summary>
    public const string ErrorCodeTrailer = "im-error-code";

    /// <summary>Unary calls give up after this; streams run until cancelled.</summary>
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;

    public Connection(string address, string? apiKey)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new UsageException($"--address must be an http:// or https:// URL (got '{address}')");
        Address = address;
        _channel = GrpcChannel.ForAddress(uri, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                // An unreachable host fails fast (exit code 3) instead of hanging on the OS timeout.
                ConnectTimeout = TimeSpan.FromSeconds(5),
                // A watch may sit idle for hours; pings find a dead server or a dropped network.
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
                EnableMultipleHttp2Connections = true,
            },
        });
        _invoker = apiKey is null ? _channel.CreateCallInvoker() : _channel.Intercept(m =>
        {
            m.Add(ApiKeyHeader, apiKey);
            return m;
        });
    }

    public string Address { get; }

    public Users.UsersClient Users => new(_invoker);
    public Conversations.ConversationsClient Conversations => new(_invoker);
    public Messages.MessagesClient Messages => new(_invoker);
    public Presence.PresenceClient Presence => new(_invoker);
    public Events.EventsClient Events => new(_invoker);

    public static CallOptions Unary(CancellationToken ct) => new(deadline: DateTime.UtcNow + CallTimeout, cancellationToken: ct);

    public static CallOptions Stream(CancellationToken ct) => new(cancellationToken: ct);

    public void Dispose() => _channel.Dispose();
}
