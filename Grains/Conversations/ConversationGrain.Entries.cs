using ImOrleans.Models;
using Microsoft.Extensions.Logging;

namespace ImOrleans.Grains.Conversations;

// The entries of the log other than plain messages (docs/protocol.md §16): who may make them, and how each is folded
// onto the message it names in the store, so that history and replay serve the latest state and no replaced text.
public sealed partial class ConversationGrain
{
    private const int MaxEmojiLength = 32;
    private const int MaxSearchLength = 200;
    private const int MaxSearchPage = 100;

    /// <summary>Checks <paramref name="entry"/> against the log and the members; returns the record to append and what
    /// to fold onto its target once it is stored.</summary>
    private async Task<(MessageRecord Record, Func<Task>? Fold)> CheckAsync(MessageRecord draft, EntryRequest entry)
    {
        switch (entry.Kind)
        {
            case null:
                if (entry.ReplyTo is { } replyTo)
                    await RequireMessageAsync(replyTo, allowDeleted: true);
                return (draft with { ReplyTo = entry.ReplyTo, Mentions = CheckMentions(entry.Mentions) }, null);

            case EntryKinds.Edit:
            {
                var target = await RequireMessageAsync(RequireTarget(entry));
                if (target.From != draft.From)
                    throw new ImException(ErrorCodes.Forbidden, "only its author can edit a message");
                if (draft.Timestamp - target.Timestamp > _limits.EditWindow)
                    throw new ImException(ErrorCodes.Forbidden, $"a message can be edited for {_limits.EditWindow} after it was sent; that time has passed");
                var mentions = CheckMentions(entry.Mentions);
                var record = draft with { Kind = EntryKinds.Edit, Target = target.Seq, Mentions = mentions };
                return (record, () => store.RewriteAsync(Id, target.Seq, record.Body, mentions, record.Timestamp, deleted: false));
            }

            case EntryKinds.Delete:
            {
                var target = await RequireMessageAsync(RequireTarget(entry));
                var mayModerate = draft.From == Ids.SystemUser
                    || (S.Kind == ConversationKind.Group && S.Members.GetValueOrDefault(draft.From) >= MemberRole.Admin);
                if (target.From != draft.From && !mayModerate)
                    throw new ImException(ErrorCodes.Forbidden, "only its author (or a group admin) can delete a message");
                var record = draft with { Kind = EntryKinds.Delete, Target = target.Seq, Body = "" };
                return (record, () => store.RewriteAsync(Id, target.Seq, "", null, null, deleted: true));
            }

            default: // react, unreact
            {
                RequireEmoji(entry.Body);
                var target = await RequireMessageAsync(RequireTarget(entry));
                var reactions = (target.Reactions ?? new Dictionary<string, IReadOnlyList<string>>())
                    .ToDictionary(r => r.Key, r => r.Value.ToList());
                var users = reactions.GetValueOrDefault(entry.Body) ?? [];
                if (entry.Kind == EntryKinds.React)
                {
                    if (users.Contains(draft.From))
                        throw new ImException(ErrorCodes.AlreadyExists, $"'{draft.From}' already reacted with {entry.Body}");
                    reactions[entry.Body] = [.. users, draft.From];
                }
                else
                {
                    if (!users.Remove(draft.From))
                        throw new ImException(ErrorCodes.NotFound, $"'{draft.From}' has no {entry.Body} reaction on #{target.Seq}");
                    if (users.Count == 0)
                        reactions.Remove(entry.Body);
                }
                var folded = reactions.ToDictionary(r => r.Key, r => (IReadOnlyList<string>)r.Value);
                var record = draft with { Kind = entry.Kind, Target = target.Seq };
                return (record, () => store.SetReactionsAsync(Id, target.Seq, folded));
            }
        }
    }

    /// <summary>Folds a stored entry onto its target; should that fail, the sender's retry (same id) folds it again.</summary>
    private async Task FoldAsync(Func<Task>? fold)
    {
        if (fold is null)
            return;
        try
        {
            await fold();
        }
        catch (Exception ex)
        {
            log.LogError(ex, "Folding an entry of {Conversation} onto its target failed", Id);
            throw new ImException(ErrorCodes.Unavailable, "the message store is unavailable; retry with the same id");
        }
    }

    /// <summary>A retried edit or delete folds again what its first attempt may not have (a store failure after the
    /// append). An edit only while no later edit has replaced its text.</summary>
    private async Task RefoldAsync(MessageRecord stored)
    {
        if (stored.Target is not { } seq)
            return;
        if (stored.Kind == EntryKinds.Delete)
        {
            await FoldAsync(() => store.RewriteAsync(Id, seq, "", null, null, deleted: true));
        }
        else if (stored.Kind == EntryKinds.Edit)
        {
            var target = (await store.ReadAfterAsync(Id, seq - 1, 1)).FirstOrDefault();
            if (target is { Deleted: false } && (target.EditedAt is null || target.EditedAt < stored.Timestamp))
                await FoldAsync(() => store.RewriteAsync(Id, seq, stored.Body, stored.Mentions, stored.Timestamp, deleted: false));
        }
    }

    public async Task<IReadOnlyList<MessageRecord>> SearchAsync(string by, string text, long? beforeSeq, int limit)
    {
        RequireMember(by);
        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxSearchLength)
            throw new ImException(ErrorCodes.BadRequest, $"a search needs 1-{MaxSearchLength} characters of text");
        return await store.SearchAsync(Id, text, beforeSeq ?? long.MaxValue, Math.Clamp(limit, 1, MaxSearchPage));
    }

    public async Task EraseUserAsync(string user)
    {
        if (!S.Created)
            return;
        var erased = await store.EraseSenderAsync(Id, user);
        _activeSenders.Remove(user);
        // One entry tells every device that the user's earlier messages are tombstones: where something was erased, or
        // where it is still a member. A repeated erasure (nothing left to erase, no longer a member) adds none.
        if (erased > 0 || S.Members.ContainsKey(user))
        {
            var last = await LastSeqAsync();
            var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            await AppendAsync([new MessageRecord(Id, last + 1, $"erase-{Guid.NewGuid():N}", user, "", "", now, Kind: EntryKinds.Erase)]);
        }
        if (!S.Members.ContainsKey(user))
            return;
        await BroadcastAsync(new ConversationEvent(EventTypes.MemberRemoved, Id, user, By: Ids.SystemUser));
        // Not through RemoveAsync: that calls the user grain back, which is waiting on this call; it clears its own list.
        if (S.Kind == ConversationKind.Group && S.Members[user] == MemberRole.Owner)
        {
            var heir = S.Members.Where(m => m.Key != user)
                .OrderByDescending(m => m.Value).ThenBy(m => m.Key, StringComparer.Ordinal)
                .Select(m => m.Key).FirstOrDefault();
            if (heir is not null)
                S.Members[heir] = MemberRole.Owner;
        }
        S.Members.Remove(user);
        S.ReadMarks.Remove(user);
        S.JoinedAt.Remove(user);
        if (_routes?.Remove(user) == true)
            _ = User(user).UnwatchAsync(Id);
        _byGateway = null;
        S.ChangedAt = DateTimeOffset.UtcNow;
        await state.WriteStateAsync();
    }

    /// <summary>The message (not another entry) at <paramref name="seq"/>, or not_found.</summary>
    private async Task<MessageRecord> RequireMessageAsync(long seq, bool allowDeleted = false)
    {
        var found = seq >= 1 && seq <= (_lastSeq ?? 0) ? (await store.ReadAfterAsync(Id, seq - 1, 1)).FirstOrDefault() : null;
        if (found is null || found.Seq != seq || found.Kind is not null || (found.Deleted && !allowDeleted))
            throw new ImException(ErrorCodes.NotFound, $"no message #{seq} in '{Id}'");
        return found;
    }

    private static long RequireTarget(EntryRequest entry) =>
        entry.Target ?? throw new ImException(ErrorCodes.BadPayload, $"a{(entry.Kind == EntryKinds.Edit ? "n" : "")} {entry.Kind} needs a 'target' seq");

    private IReadOnlyList<string>? CheckMentions(IReadOnlyList<string>? mentions)
    {
        if (mentions is null || mentions.Count == 0)
            return null;
        var distinct = mentions.Distinct().ToList();
        if (distinct.Count > _limits.MaxMentions)
            throw new ImException(ErrorCodes.LimitExceeded, $"a message mentions at most {_limits.MaxMentions} users");
        foreach (var user in distinct)
        {
            if (!S.Members.ContainsKey(user))
                throw new ImException(ErrorCodes.BadRequest, $"'{user}' is not a member, so cannot be mentioned");
        }
        return distinct;
    }

    private static void RequireEmoji(string emoji)
    {
        if (emoji.Length is 0 or > MaxEmojiLength || emoji.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) || emoji.All(char.IsAscii))
            throw new ImException(ErrorCodes.BadRequest, $"'emoji' must be an emoji: 1-{MaxEmojiLength} characters, no spaces, not plain text");
    }
}
