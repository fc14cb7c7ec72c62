using Grpc.Core;

namespace ImOrleans.Gateway.Grpc;

/// <summary>The one mapping from domain error codes to gRPC status codes. The code itself travels in the
/// <see cref="CodeTrailer"/> trailer, so callers can tell apart refusals that share a status.</summary>
public static class ErrorStatus
{
    public const string CodeTrailer = "im-error-code";

    public static StatusCode For(string code) => code switch
    {
        ErrorCodes.NotFound => StatusCode.NotFound,
        ErrorCodes.AlreadyExists => StatusCode.AlreadyExists,
        ErrorCodes.NotMember or ErrorCodes.Forbidden or ErrorCodes.Blocked => StatusCode.PermissionDenied,
        // The caller is trusted and may act as anyone; what fails is the account's state, which an
        // EnableUser call fixes. That is gRPC's definition of a failed precondition.
        ErrorCodes.Disabled or ErrorCodes.PushUnavailable => StatusCode.FailedPrecondition,
        ErrorCodes.BadRequest or ErrorCodes.BadPayload or ErrorCodes.InvalidId or ErrorCodes.WeakPassword => StatusCode.InvalidArgument,
        ErrorCodes.LimitExceeded or ErrorCodes.RateLimited => StatusCode.ResourceExhausted,
        ErrorCodes.Unavailable => StatusCode.Unavailable,
        _ => StatusCode.Internal,
    };

    public static RpcException ToRpcException(ImException ex) =>
        new(new Status(For(ex.Code), ex.Message), new Metadata { { CodeTrailer, ex.Code } });
}
