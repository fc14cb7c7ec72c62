using ImOrleans.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ImOrleans.Grains.Push;

/// <summary>One user's push notifications. Decides, per stored message, which of the user's offline devices get an
/// alert: none for the user's own messages, a muted conversation, a blocked sender, do-not-disturb hours or a
/// connected device; one alert per device per conversation while the device stays offline (later messages only
/// raise its counter and the badge). The alert goes to the silo's <see cref="PushQueue"/>, never awaited.</summary>
public sealed class PushGrain(
    [PersistentState("push", GrainStorage.Name)] IPersistentState<PushState> state,
    IOptions<ChatLimits> limits) : Grain, IPushGrain
{
    public const int MaxMutes = 1000;
    public const int MaxUnreadConversations = 1000;
    public const string NoPreview = "New message";

    /// <summary>Blocks are the user grain's; they are asked again after this long (a new block takes effect by then).</summary>
    private static readonly TimeSpan BlockedCacheAge = TimeSpan.FromSeconds(30);

    /// <summary>Counters are written in batches; losing the last second after a crash only means one more alert.</summary>
    private static readonly TimeSpan WriteDelay = TimeSpan.FromSeconds(1);

    private HashSet<string>? _blocked;
    private DateTimeOffset _blockedAt;
    private DeferredWrite? _write;

    private string UserId => this.GetPrimaryKeyString();
    private PushState S => state.State;

    // Registered only when a provider is configured (Push:*); without it nothing is ever sent.
    // Looked up once per activation, not on every message.
    private PushQueue? Queue => (_queue ??= new(() => ServiceProvider.GetService<PushQueue>())).Value;
    private TimeProvider Time => _time ??= ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System;
    private PushOptions Options => _options ??= ServiceProvider.GetService<IOptions<PushOptions>>()?.Value ?? new PushOptions();
    private Lazy<PushQueue?>? _queue;
    private TimeProvider? _time;
    private PushOptions? _options;
    private DeferredWrite Write => _write ??= new(this, state.WriteStateAsync, WriteDelay);

    public async Task RegisterAsync(string device, PushTarget target)
    {
        Ids.RequireDevice(device);
        PushTargetRules.Require(target);
        if (Queue is not { } queue || !queue.Has(target.Provider))
            throw new ImException(ErrorCodes.PushUnavailable, $"push provider '{target.Provider}' is not configured on this server");
        if (queue.Refuse(target) is { } refused)
            throw new ImException(ErrorCodes.BadRequest, refused);
        if (!S.Registrations.ContainsKey(device) && S.Registrations.Count >= limits.Value.MaxDevicesPerUser)
            throw new ImException(ErrorCodes.LimitExceeded, $"at most {limits.Value.MaxDevicesPerUser} push registrations");
        target = target with { Sandbox = target.Provider == PushProviders.Apns && target.Sandbox };
        if (S.Registrations.TryGetValue(device, out var existing) && existing.Target == target)
            return;
        S.Registrations[device] = new PushRegistration(device, target, Time.GetUtcNow());
        await WriteNowAsync();
    }

    public async Task<bool> UnregisterAsync(string device)
    {
        var removed = S.Registrations.Remove(device);
        removed |= S.Unread.Remove(device);
        if (removed)
            await WriteNowAsync();
        return removed;
    }

    public Task<PushOverview> GetAsync()
    {
        var now = Time.GetUtcNow();
        return Task.FromResult(new PushOverview(
            S.Registrations.Values.OrderBy(r => r.Device, StringComparer.Ordinal).ToList(),
            S.Mutes.Where(m => m.Value > now).ToDictionary(m => m.Key, m => m.Value),
            S.Settings));
    }

    public async Task MuteAsync(string conversation, DateTimeOffset? until)
    {
        if (!Ids.IsValidConversation(conversation))
            throw new ImException(ErrorCodes.NotFound, $"no conversation '{conversation}'");
        // Throws not_member (or not_found): only a member may mute.
        await GrainFactory.Ref<IConversationGrain>(conversation).GetAsync(UserId);
        var now = Time.GetUtcNow();
        foreach (var expired in S.Mutes.Where(m => m.Value <= now).Select(m => m.Key).ToList())
            S.Mutes.Remove(expired);
        if (until is { } u && u > now)
        {
            if (!S.Mutes.ContainsKey(conversation) && S.Mutes.Count >= MaxMutes)
                throw new ImException(ErrorCodes.LimitExceeded, $"at most {MaxMutes} muted conversations");
            S.Mutes[conversation] = u;
        }
        else
        {
            S.Mutes.Remove(conversation);
        }
        await WriteNowAsync();
    }

    public async Task SetSettingsAsync(PushSettings settings)
    {
        if (settings.DndStart is null != settings.DndEnd is null)
            throw new ImException(ErrorCodes.BadRequest, "do-not-disturb needs both a start and an end");
        if (settings.DndStart is < 0 or >= 1440 || settings.DndEnd is < 0 or >= 1440)
            throw new ImException(ErrorCodes.BadRequest, "do-not-disturb hours are minutes after midnight, 0-1439");
        if (settings.TimeZone is { } tz && (tz.Length > 64 || !TimeZoneInfo.TryFindSystemTimeZoneById(tz, out _)))
            throw new ImException(ErrorCodes.BadRequest, $"unknown time zone '{tz}'");
        S.Settings = settings;
        await WriteNowAsync();
    }

    public async Task OnMessageAsync(MessageRecord message, IReadOnlyCollection<string> onlineDevices)
    {
        if (Queue is not { } queue || message.From == UserId || S.Registrations.Count == 0)
            return;
        var now = Time.GetUtcNow();
        var offline = S.Registrations.Values.Where(r => !onlineDevices.Contains(r.Device) && queue.Has(r.Target.Provider)).ToList();
        if (offline.Count == 0 || IsMuted(message.Conversation, now) || DoNotDisturb.Covers(S.Settings, now) || await IsBlockedAsync(message.From))
            return;
        foreach (var registration in offline)
        {
            var unread = S.Unread.TryGetValue(registration.Device, out var u) ? u : S.Unread[registration.Device] = [];
            var first = !unread.TryGetValue(message.Conversation, out var count);
            if (first && unread.Count >= MaxUnreadConversations)
                continue;
            unread[message.Conversation] = count + 1;
            if (first)
                queue.TryEnqueue(Notification(registration, message, unread.Values.Sum()));
        }
        Write.Changed();
    }

    public Task DeviceOnlineAsync(string device)
    {
        if (S.Unread.Remove(device))
            Write.Changed();
        return Task.CompletedTask;
    }

    public Task DeviceRemovedAsync(string device) => UnregisterAsync(device);

    public async Task TokenRejectedAsync(string device, string token)
    {
        // Only the token that was refused: the device may have registered a new one meanwhile.
        if (S.Registrations.TryGetValue(device, out var r) && r.Target.Token == token)
            await UnregisterAsync(device);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken ct)
    {
        if (_write is not null)
            await _write.FlushAsync(ct);
    }

    private PushNotification Notification(PushRegistration registration, MessageRecord message, int badge)
    {
        var body = S.Settings.Preview && message.Body.Length > 0
            ? (message.Body.Length > Options.PreviewLength ? message.Body[..Options.PreviewLength] + "…" : message.Body)
            : NoPreview;
        return new PushNotification(UserId, registration.Device, registration.Target,
            message.Conversation, message.Seq, message.From, message.From, body, badge);
    }

    private bool IsMuted(string conversation, DateTimeOffset now) => S.Mutes.TryGetValue(conversation, out var until) && until > now;

    private async Task<bool> IsBlockedAsync(string sender)
    {
        if (_blocked is null || Time.GetUtcNow() - _blockedAt > BlockedCacheAge)
        {
            _blocked = [.. await GrainFactory.Ref<IUserGrain>(UserId).ListBlockedAsync()];
            _blockedAt = Time.GetUtcNow();
        }
        return _blocked.Contains(sender);
    }

    private async Task WriteNowAsync()
    {
        _write?.Forget();
        await state.WriteStateAsync();
    }
}
