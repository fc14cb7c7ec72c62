using ImOrleans.Models;

namespace ImOrleans.Grains.Push;

/// <summary>A user's daily do-not-disturb window, in the user's time zone.</summary>
public static class DoNotDisturb
{
    /// <summary>True when <paramref name="now"/> falls in the window [start, end); a window may span midnight, and one
    /// whose start equals its end is empty.</summary>
    public static bool Covers(PushSettings settings, DateTimeOffset now)
    {
        if (settings is not { DndStart: { } start, DndEnd: { } end } || start == end)
            return false;
        var zone = settings.TimeZone is { } id && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var z) ? z : TimeZoneInfo.Utc;
        var local = TimeZoneInfo.ConvertTime(now, zone);
        var minute = local.Hour * 60 + local.Minute;
        return start < end ? minute >= start && minute < end : minute >= start || minute < end;
    }
}
