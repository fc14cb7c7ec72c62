using ImOrleans.Models;
using Orleans.Concurrency;

namespace ImOrleans;

/// <summary>One user's push notifications (key: user id): the push registrations of its devices, its mutes and
/// settings, and which offline device was already alerted of which conversation.</summary>
[Alias("im.IPushGrain")]
public interface IPushGrain : IGrainWithStringKey
{
    /// <summary>Registers (or replaces) the push token of <paramref name="device"/>. Fails with bad_request for an unknown
    /// provider or a malformed token, and with push_unavailable when this server has no such provider configured.</summary>
    [Alias("Register")] Task RegisterAsync(string device, PushTarget target);

    /// <summary>Removes the push registration of <paramref name="device"/>; true if there was one.</summary>
    [Alias("Unregister")] Task<bool> UnregisterAsync(string device);

    /// <summary>Registrations, mutes and settings of this user.</summary>
    [AlwaysInterleave, Alias("Get")] Task<PushOverview> GetAsync();

    /// <summary>Mutes <paramref name="conversation"/> until <paramref name="until"/> (null: unmutes it).
    /// Fails with not_member when the user is not a member.</summary>
    [Alias("Mute")] Task MuteAsync(string conversation, DateTimeOffset? until);

    /// <summary>Replaces the user's push settings (do-not-disturb hours, preview).</summary>
    [Alias("SetSettings")] Task SetSettingsAsync(PushSettings settings);

    /// <summary>A message was stored in a conversation of this user: alerts the user's registered devices that are not
    /// in <paramref name="onlineDevices"/>, unless the policy says otherwise (own message, muted, blocked sender,
    /// do-not-disturb, already alerted of this conversation).</summary>
    [OneWay, Alias("OnMessage")] Task OnMessageAsync(MessageRecord message, IReadOnlyCollection<string> onlineDevices);

    /// <summary>The device connected: it syncs now, so its next offline spell starts with fresh alerts and badge.</summary>
    [OneWay, Alias("DeviceOnline")] Task DeviceOnlineAsync(string device);

    /// <summary>The device was removed from the account: its registration goes.</summary>
    [OneWay, Alias("DeviceRemoved")] Task DeviceRemovedAsync(string device);

    /// <summary>The provider answered that <paramref name="token"/> is dead: the registration goes if it still holds that token.</summary>
    [OneWay, Alias("TokenRejected")] Task TokenRejectedAsync(string device, string token);
}
