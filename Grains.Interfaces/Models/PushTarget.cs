namespace ImOrleans.Models;

/// <summary>Where one device is reached while it is offline.</summary>
/// <param name="Provider">One of <see cref="PushProviders.All"/>.</param>
/// <param name="Token">The provider's device token (for <c>webpush</c>: the browser's subscription JSON).</param>
/// <param name="Sandbox">APNs only: the token belongs to the development (sandbox) environment.</param>
[GenerateSerializer, Immutable, Alias("im.PushTarget")]
public sealed record PushTarget(
    [property: Id(0)] string Provider,
    [property: Id(1)] string Token,
    [property: Id(2)] bool Sandbox = false);

/// <summary>A device's push registration as the user sees it.</summary>
[GenerateSerializer, Immutable, Alias("im.PushRegistration")]
public sealed record PushRegistration(
    [property: Id(0)] string Device,
    [property: Id(1)] PushTarget Target,
    [property: Id(2)] DateTimeOffset RegisteredAt);

/// <summary>A user's push settings.</summary>
/// <param name="Preview">Show the message text in notifications; off by default (sender and "New message" only).</param>
/// <param name="DndStart">Start of the daily do-not-disturb hours, minutes after midnight; null: none.</param>
/// <param name="DndEnd">End of the do-not-disturb hours (exclusive), minutes after midnight; may be before the start (over midnight).</param>
/// <param name="TimeZone">IANA time zone the hours are in (default UTC).</param>
[GenerateSerializer, Immutable, Alias("im.PushSettings")]
public sealed record PushSettings(
    [property: Id(0)] bool Preview = false,
    [property: Id(1)] int? DndStart = null,
    [property: Id(2)] int? DndEnd = null,
    [property: Id(3)] string? TimeZone = null);

/// <summary>Everything the push grain holds for a user that the user may see.</summary>
[GenerateSerializer, Immutable, Alias("im.PushOverview")]
public sealed record PushOverview(
    [property: Id(0)] IReadOnlyList<PushRegistration> Registrations,
    [property: Id(1)] IReadOnlyDictionary<string, DateTimeOffset> Mutes,
    [property: Id(2)] PushSettings Settings);

/// <summary>The provider names a client may register.</summary>
public static class PushProviders
{
    public const string Fcm = "fcm", Apns = "apns", WebPush = "webpush", Hms = "hms", Honor = "honor",
        Xiaomi = "xiaomi", Oppo = "oppo", Vivo = "vivo", Webhook = "webhook";

    public static readonly IReadOnlyList<string> All = [Fcm, Apns, WebPush, Hms, Honor, Xiaomi, Oppo, Vivo, Webhook];
}
