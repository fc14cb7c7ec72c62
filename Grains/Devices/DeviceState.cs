namespace ImOrleans.Grains.Devices;

/// <summary>Persisted device state: how far each conversation has been acknowledged. (Ids 1 and 2 held a push
/// provider and token; push registrations live in the user's push grain now.)</summary>
[GenerateSerializer, Alias("im.DeviceState")]
public sealed class DeviceState
{
    /// <summary>Conversation id → highest seq the device acknowledged.</summary>
    [Id(0)] public Dictionary<string, long> Cursors { get; set; } = [];
}
