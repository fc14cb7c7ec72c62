using ImOrleans.Models;

namespace ImOrleans.Grains.Push;

/// <summary>Persisted push state of one user.</summary>
[GenerateSerializer, Alias("im.PushState")]
public sealed class PushState
{
    /// <summary>Device id → its registration; capped by <see cref="ChatLimits.MaxDevicesPerUser"/>.</summary>
    [Id(0)] public Dictionary<string, PushRegistration> Registrations { get; set; } = [];

    /// <summary>Conversation id → muted until then; capped by <see cref="PushGrain.MaxMutes"/>, expired ones pruned.</summary>
    [Id(1)] public Dictionary<string, DateTimeOffset> Mutes { get; set; } = [];

    [Id(2)] public PushSettings Settings { get; set; } = new();

    /// <summary>Device id → conversation id → messages that arrived while the device was offline. A conversation listed
    /// here was alerted already (later messages only count); the sum is the badge. Cleared when the device connects;
    /// capped by <see cref="PushGrain.MaxUnreadConversations"/> per device.</summary>
    [Id(3)] public Dictionary<string, Dictionary<string, int>> Unread { get; set; } = [];
}
