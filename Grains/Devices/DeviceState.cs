namespace ImOrleans.Grains.Devices;

/// <summary>Persisted device state: how far each conversation has been acknowledged, and where to push.</summary>
[GenerateSerializer, Alias("im.DeviceState")]
public sealed class DeviceState
{
    /// <summary>Conversation id → highest seq the device acknowledged.</summary>
    [Id(0)] public Dictionary<string, long> Cursors { get; set; } = [];
    [Id(1)] public string? PushProvider { get; set; }
    [Id(2)] public string? PushToken { get; set; }
}
