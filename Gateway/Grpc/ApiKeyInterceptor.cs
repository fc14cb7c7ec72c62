using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace ImOrleans.Gateway.Grpc;

/// <summary>Checks the <c>x-api-key</c> header (or a trusted client certificate) of every call to every service, so that a service added later
/// is protected without anyone remembering to. Only health checking and reflection are open, for probes and
/// tools such as grpcurl.</summary>
public sealed class ApiKeyInterceptor(IOptionsMonitor<GrpcOptions> options, ILogger<ApiKeyInterceptor> log) : Interceptor
{
    public const string Header = "x-api-key";

    // Method names are "/{package}.{Service}/{Method}".
    private static readonly string[] OpenPrefixes = ["/grpc.health.v1.", "/grpc.reflection."];

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Authorize(ServerCallContext context)
    {
        if (OpenPrefixes.Any(p => context.Method.StartsWith(p, StringComparison.Ordinal)))
            return;
        // With mutual TLS, Kestrel only lets a client certificate through once ClientCertificates accepted it
        // (issued for client authentication, chaining to the configured CA).
        if (context.GetHttpContext().Connection.ClientCertificate is not null)
            return;
        var keys = options.CurrentValue.ApiKeys;
        if (keys.Count == 0)
            throw Refuse("this server has no API keys configured (set Grpc:ApiKeys)");
        var presented = context.RequestHeaders.GetValue(Header);
        if (string.IsNullOrEmpty(presented))
            throw Refuse($"missing API key: send it in the '{Header}' metadata header");
        if (!IsKnown(presented, keys))
        {
            log.LogWarning("Refused {Method} from {Peer}: unknown API key", context.Method, context.Peer);
            throw Refuse("unknown API key");
        }
    }

    // Compares digests in constant time, so neither the timing nor the length of a guess tells anything.
    private static bool IsKnown(string presented, IEnumerable<string> keys)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var match = false;
        foreach (var key in keys)
            match |= CryptographicOperations.FixedTimeEquals(digest, SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        return match;
    }

    private static RpcException Refuse(string message) => new(new Status(StatusCode.Unauthenticated, message));
}
