using Grpc.Core;

namespace ImOrleans.Tests.Grpc;

/// <summary>Asserts that a call ends with a given status, a message, and (for domain refusals) the stable error code.</summary>
public static class Refused
{
    public static async Task<RpcException> WithAsync(StatusCode status, Func<Task> call, string? code = null)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.AreEqual(status, ex.StatusCode, ex.Status.Detail);
        Assert.IsFalse(string.IsNullOrWhiteSpace(ex.Status.Detail), $"a {status} comes with a message that says why");
        if (code is not null)
            Assert.AreEqual(code, ex.Trailers.GetValue("im-error-code"), "the im-error-code trailer");
        return ex;
    }
}
