using System.Globalization;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>The token of <c>sync.delta</c>: the server time of the previous delta. Opaque to clients; each device keeps
/// its own. A delta reaches back a little before it, so that changes written on a silo whose clock runs behind are not
/// missed (a conversation sent twice costs nothing: each is its full current state).</summary>
public static class SyncToken
{
    private const string Prefix = "s1.";
    private static readonly TimeSpan ClockMargin = TimeSpan.FromSeconds(5);

    public static string Of(DateTimeOffset at) => Prefix + at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    /// <summary>The time to ask for changes after; null (everything) for no token.</summary>
    public static DateTimeOffset? Parse(string? token)
    {
        if (token is null)
            return null;
        if (!token.StartsWith(Prefix, StringComparison.Ordinal)
            || !long.TryParse(token.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            || ms > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
            throw new ImException(ErrorCodes.BadRequest, "'token' is not a sync token of this server; sync without one");
        return DateTimeOffset.FromUnixTimeMilliseconds(ms) - ClockMargin;
    }
}
