using Grpc.Core;
using Grpc.Core.Interceptors;

namespace ImOrleans.Gateway.Grpc;

/// <summary>Turns what the grains throw into a status code with a message, for every service in one place:
/// refusals (<see cref="ImException"/>) by <see cref="ErrorStatus"/>, cluster trouble into Unavailable (retry),
/// anything else into Internal without leaking its details.</summary>
public sealed class DomainErrorInterceptor(ILogger<DomainErrorInterceptor> log) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (Translate(ex, context) is { } rpc)
        {
            throw rpc;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception ex) when (Translate(ex, context) is { } rpc)
        {
            throw rpc;
        }
    }

    private RpcException? Translate(Exception ex, ServerCallContext context)
    {
        switch (ex)
        {
            case RpcException:
                return null;
            case ImException im:
                log.LogDebug("{Method} refused: {Code} {Message}", context.Method, im.Code, im.Message);
                return ErrorStatus.ToRpcException(im);
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
            case TimeoutException or OrleansMessageRejectionException:
                log.LogWarning(ex, "{Method} could not reach the cluster", context.Method);
                return new RpcException(new Status(StatusCode.Unavailable, "the cluster did not answer in time; retry"),
                    new Metadata { { ErrorStatus.CodeTrailer, ErrorCodes.Unavailable } });
            default:
                log.LogError(ex, "{Method} failed", context.Method);
                return new RpcException(new Status(StatusCode.Internal, "internal error; the gateway log has the details"),
                    new Metadata { { ErrorStatus.CodeTrailer, ErrorCodes.Internal } });
        }
    }
}
