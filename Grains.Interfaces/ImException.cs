namespace ImOrleans;

/// <summary>A refusal by the domain (not a fault): carries a stable <see cref="ErrorCodes"/> code
/// that gateways turn into MQTT reason codes, <c>error</c> events and gRPC statuses.</summary>
[GenerateSerializer, Alias("im.ImException")]
public sealed class ImException : Exception
{
    public ImException() { }

    public ImException(string code, string message) : base(message)
    {
        Code = code;
        Detail = message;
    }

    /// <summary>One of <see cref="ErrorCodes"/>.</summary>
    [Id(0)] public string Code { get; set; } = ErrorCodes.Internal;

    /// <summary>The human-readable message (kept separately because serialized exceptions
    /// are rebuilt through the parameterless constructor).</summary>
    [Id(1)] public string Detail { get; set; } = "";

    public override string Message => Detail;
}
