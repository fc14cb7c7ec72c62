namespace ImOrleans.Gateway.Grpc;

/// <summary>Checks of request fields. Each refusal is an <see cref="ImException"/>, so it reaches the caller
/// through the same mapping as the grains' own (InvalidArgument here), and names the field.</summary>
public static class Require
{
    /// <summary>The most ids one request may list (members, users to watch).</summary>
    public const int MaxIds = 1000;

    public static string User(string value, string field)
    {
        if (!Ids.IsValidUser(value))
            throw Invalid(field, $"must be a user id of 1-64 characters of a-z 0-9 _ . - (got '{value}')", ErrorCodes.InvalidId);
        return value;
    }

    public static string Conversation(string value, string field = "conversation")
    {
        if (!Ids.IsValidConversation(value))
            throw Invalid(field, $"must be a conversation id (\"g-\" + 32 hex digits, or \"d:{{user}}:{{user}}\"); got '{value}'", ErrorCodes.InvalidId);
        return value;
    }

    public static string Device(string value, string field = "device")
    {
        if (!Ids.IsValidDevice(value))
            throw Invalid(field, $"must be a device id of 1-64 characters of A-Z a-z 0-9 _ . - (got '{value}')", ErrorCodes.InvalidId);
        return value;
    }

    /// <summary>A list of user ids, duplicates dropped, order kept.</summary>
    public static List<string> Users(IReadOnlyCollection<string> values, string field, int min = 0)
    {
        if (values.Count < min || values.Count > MaxIds)
            throw Invalid(field, min > 0 ? $"must list {min}-{MaxIds} user ids" : $"must list at most {MaxIds} user ids");
        foreach (var v in values)
            User(v, field);
        return values.Distinct().ToList();
    }

    /// <summary>The acting user of a request: empty (or "system") means the system, which has every right.</summary>
    public static string ActingUser(string value, string field = "as_user") =>
        value is "" or Ids.SystemUser ? Ids.SystemUser : User(value, field);

    public static ImException Invalid(string field, string message, string code = ErrorCodes.BadRequest) => new(code, $"{field} {message}");
}
