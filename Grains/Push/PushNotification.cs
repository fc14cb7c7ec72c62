using System.Security.Cryptography;
using System.Text;
using ImOrleans.Models;

namespace ImOrleans.Grains.Push;

/// <summary>One alert for one device, as the push grain decided it: who, where to, and what it says.</summary>
/// <param name="Title">The sender's name (the user id; there are no display names yet).</param>
/// <param name="Body">The message text when the user allows previews, else "New message".</param>
/// <param name="Badge">Messages this device got while offline, over all conversations.</param>
public sealed record PushNotification(
    string User, string Device, PushTarget Target,
    string Conversation, long Seq, string From, string Title, string Body, int Badge)
{
    /// <summary>Replaces an earlier alert of the same conversation on the device (APNs collapse id, FCM/HMS tag, Web
    /// Push topic): 16 hex characters, within every provider's length limit. Computed once per alert.</summary>
    public string CollapseId => field ??= Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Conversation)))[..16];

    /// <summary>The same as a positive 31-bit number, for providers that want one (Xiaomi's notify_id).</summary>
    public int CollapseNumber => (int)(Convert.ToUInt32(CollapseId[..8], 16) & 0x7FFFFFFF);

    /// <summary>What the app needs to open the right screen and sync: every value a string (FCM requires it).</summary>
    public Dictionary<string, string> Data => new()
    {
        ["conv"] = Conversation,
        ["seq"] = Seq.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["from"] = From,
        ["badge"] = Badge.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary><see cref="Data"/> as a JSON object, as most providers carry it.</summary>
    public System.Text.Json.Nodes.JsonObject DataJson() =>
        new(Data.Select(d => KeyValuePair.Create(d.Key, (System.Text.Json.Nodes.JsonNode?)d.Value)));
}
