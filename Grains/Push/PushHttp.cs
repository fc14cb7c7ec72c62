using System.Net;
using System.Text.Json.Nodes;

namespace ImOrleans.Grains.Push;

/// <summary>What all providers' HTTP answers have in common.</summary>
internal static class PushHttp
{
    /// <summary>429 and 5xx mean "try again later" at every provider.</summary>
    public static bool IsRetryable(HttpStatusCode status) => status == HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>The Retry-After header as a delay (seconds or an HTTP date), if the service sent one.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time) => RetryAfter(response.Headers.RetryAfter, time);

    /// <summary>A Retry-After header as a delay, never negative (a date already past means at once).</summary>
    public static TimeSpan? RetryAfter(System.Net.Http.Headers.RetryConditionHeaderValue? header, TimeProvider time)
    {
        if (header?.Delta is { } delta)
            return delta;
        if (header?.Date is { } date)
            return date > time.GetUtcNow() ? date - time.GetUtcNow() : TimeSpan.Zero;
        return null;
    }

    /// <summary>The generic reading of an answer: 2xx sent, 429/5xx retry (with Retry-After), anything else failed.</summary>
    public static PushResult Classify(HttpResponseMessage response, TimeProvider time, string? reason = null)
    {
        var code = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
            return PushResult.Sent;
        var why = reason is null ? $"http {code}" : $"http {code} {reason}";
        return IsRetryable(response.StatusCode) ? PushResult.Retry(why, RetryAfter(response, time)) : PushResult.Failed(why);
    }

    /// <summary>The body as a JSON object, or null when it is not one (an HTML error page, nothing).</summary>
    public static async Task<JsonObject?> ReadJsonAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            return JsonNode.Parse(text) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    public static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?.ToJsonString();
}
