using System.CommandLine;

namespace ImOrleans.ImCtl;

/// <summary>Options every command takes (recursive on the root). Flags win over the environment.</summary>
public static class GlobalOptions
{
    public const string AddressVariable = "IMCTL_ADDRESS";
    public const string ApiKeyVariable = "IMCTL_API_KEY";
    public const string DefaultAddress = "http://127.0.0.1:5001";

    public static readonly Option<string?> Address = new("--address")
    {
        Description = $"gRPC address of the server [env {AddressVariable}, default {DefaultAddress}]",
        Recursive = true,
    };

    public static readonly Option<string?> ApiKey = new("--api-key")
    {
        Description = $"API key sent as x-api-key [env {ApiKeyVariable}]",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print one JSON object per line instead of text",
        Recursive = true,
    };

    public static string AddressOf(ParseResult parse) =>
        parse.GetValue(Address) ?? NonEmpty(Environment.GetEnvironmentVariable(AddressVariable)) ?? DefaultAddress;

    public static string? ApiKeyOf(ParseResult parse) =>
        parse.GetValue(ApiKey) ?? NonEmpty(Environment.GetEnvironmentVariable(ApiKeyVariable));

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
