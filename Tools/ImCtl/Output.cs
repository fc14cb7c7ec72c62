using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ImOrleans.ImCtl;

/// <summary>Text for people, or one JSON object per line for scripts (a single result is one line, a list or a
/// stream one line per item). Errors go to stderr in the same style.</summary>
public sealed class Output(bool json)
{
    // Bodies are chat text: keep accents and emoji readable instead of \u-escaping them.
    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public bool Json => json;

    public void Write(JsonObject item, string text) => Console.Out.WriteLine(json ? item.ToJsonString(JsonOptions) : text);

    public void Error(string status, string? code, string message)
    {
        if (json)
        {
            var error = new JsonObject { ["status"] = status, ["message"] = message };
            if (code is not null)
                error["code"] = code;
            Console.Error.WriteLine(new JsonObject { ["error"] = error }.ToJsonString(JsonOptions));
        }
        else
        {
            Console.Error.WriteLine(code is null ? $"error: {status}: {message}" : $"error: {status} ({code}): {message}");
        }
    }

    /// <summary>A remark for a person (hints, progress) on stderr, so it never mixes with data on stdout.</summary>
    public static void Note(string text) => Console.Error.WriteLine(text);
}
