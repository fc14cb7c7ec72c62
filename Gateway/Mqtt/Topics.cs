namespace ImOrleans.Gateway.Mqtt;

/// <summary>Topic names of the client protocol.</summary>
public static class Topics
{
    public static string Messages(string user) => $"u/{user}/m";
    public static string Events(string user) => $"u/{user}/e";
    public static string Presence(string user) => $"u/{user}/p";
    public static string Replies(string user) => $"u/{user}/r";

    /// <summary>The only subscriptions a device may hold: its own tree, or one of its own topics.</summary>
    public static bool MaySubscribe(string user, string filter) =>
        filter == $"u/{user}/#" || filter == $"u/{user}/+"
        || filter == Messages(user) || filter == Events(user) || filter == Presence(user) || filter == Replies(user);

    /// <summary>The conversation of a message topic <c>c/{conv}/m</c> (conv without a '/'), else null. Read in place:
    /// every message sent goes through here, and splitting the topic allocated an array and three strings.</summary>
    public static string? ConversationOfMessage(string topic) =>
        topic.Length >= 4 && topic.StartsWith("c/", StringComparison.Ordinal) && topic.EndsWith("/m", StringComparison.Ordinal)
        && !topic.AsSpan(2, topic.Length - 4).Contains('/')
            ? topic[2..^2]
            : null;

    /// <summary>Whether an MQTT 5 ResponseTopic stays inside the device's own tree.</summary>
    public static bool IsOwn(string user, string topic) =>
        topic.StartsWith($"u/{user}/", StringComparison.Ordinal) && !topic.Contains('+') && !topic.Contains('#');
}
