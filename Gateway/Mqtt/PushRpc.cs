using System.Globalization;
using System.Text.Json.Nodes;
using ImOrleans.Models;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>The push RPC methods: <c>device.push</c>, <c>conv.mute</c>, <c>push.settings</c>, <c>push.get</c>.</summary>
public static class PushRpc
{
    public static readonly IReadOnlySet<string> Methods = new HashSet<string> { "device.push", "conv.mute", "push.settings", "push.get" };

    public static async Task<JsonNode?> InvokeAsync(IGrainFactory grains, DeviceConnection c, string method, JsonObject a)
    {
        var push = grains.Ref<IPushGrain>(c.User);
        switch (method)
        {
            case "device.push":
                // No token (absent, null or empty): this device wants no more pushes.
                if (PublishRouter.OptionalString(a, "token") is not { Length: > 0 } token)
                {
                    await push.UnregisterAsync(c.Device);
                    return null;
                }
                var sandbox = a["sandbox"] is null ? false
                    : a["sandbox"] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : throw WireErrors.BadPayload("'sandbox' must be a boolean");
                await push.RegisterAsync(c.Device, new PushTarget(PublishRouter.RequireString(a, "provider"), token, sandbox));
                return null;
            case "conv.mute":
                var conv = PublishRouter.RequireString(a, "conv");
                var until = Until(a);
                await push.MuteAsync(conv, until);
                return new JsonObject { ["conv"] = conv, ["until"] = until is { } u && u > DateTimeOffset.UtcNow ? u.ToUnixTimeMilliseconds() : null };
            case "push.settings":
                var current = (await push.GetAsync()).Settings;
                var settings = current with
                {
                    Preview = a["preview"] is null ? current.Preview
                        : a["preview"] is JsonValue p && p.TryGetValue<bool>(out var pv) ? pv : throw WireErrors.BadPayload("'preview' must be a boolean"),
                };
                if (a.ContainsKey("dnd"))
                {
                    settings = a["dnd"] switch
                    {
                        null => settings with { DndStart = null, DndEnd = null, TimeZone = null },
                        JsonObject d => settings with
                        {
                            DndStart = Minutes(d, "start"),
                            DndEnd = Minutes(d, "end"),
                            TimeZone = PublishRouter.OptionalString(d, "tz"),
                        },
                        _ => throw WireErrors.BadPayload("'dnd' must be {\"start\",\"end\",\"tz\"?} or null"),
                    };
                }
                await push.SetSettingsAsync(settings);
                return Settings(settings);
            default: // push.get
                var overview = await push.GetAsync();
                return new JsonObject
                {
                    ["registrations"] = new JsonArray(overview.Registrations.Select(r => (JsonNode)new JsonObject
                    {
                        ["device"] = r.Device,
                        ["provider"] = r.Target.Provider,
                        ["sandbox"] = r.Target.Sandbox,
                        ["registeredAt"] = r.RegisteredAt.ToUnixTimeMilliseconds(),
                    }).ToArray()),
                    ["mutes"] = new JsonObject(overview.Mutes.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value.ToUnixTimeMilliseconds()))),
                    ["settings"] = Settings(overview.Settings),
                };
        }
    }

    private static JsonObject Settings(PushSettings s) => new()
    {
        ["preview"] = s.Preview,
        ["dnd"] = s.DndStart is { } start && s.DndEnd is { } end
            ? new JsonObject { ["start"] = Clock(start), ["end"] = Clock(end), ["tz"] = s.TimeZone ?? "UTC" }
            : null,
    };

    /// <summary>Unix time in milliseconds, like every time in the protocol, or an ISO 8601 string; absent or null: none.</summary>
    private static DateTimeOffset? Until(JsonObject a) => a["until"] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<long>(out var ms) => ms is >= 0 and <= 253_402_300_799_999 ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : throw WireErrors.BadPayload("'until' is out of range"),
        JsonValue v when v.TryGetValue<string>(out var text) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) => t,
        _ => throw WireErrors.BadPayload("'until' must be Unix time in milliseconds or an ISO 8601 time"),
    };

    private static string Clock(int minutes) => $"{minutes / 60:00}:{minutes % 60:00}";

    /// <summary>"HH:mm" as minutes after midnight.</summary>
    private static int Minutes(JsonObject o, string name) =>
        TimeOnly.TryParseExact(PublishRouter.RequireString(o, name), "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)
            ? t.Hour * 60 + t.Minute
            : throw WireErrors.BadPayload($"'dnd.{name}' must be a time of day as \"HH:mm\"");
}
