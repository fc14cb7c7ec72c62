using System.Diagnostics;
using ImOrleans.Models;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>A connection's messages on their way into conversations, one lane per conversation. A lane makes one call
/// at a time, so the conversation stores the messages in the order the client sent them; what the client sends while a
/// call is out gathers in the lane and goes in the next call, together. A busy client thus costs a grain call and an
/// append per batch, not per message, and never waits for one message to be stored before the next is read.</summary>
public sealed class SendLanes(Func<string, IReadOnlyList<NewMessage>, Task<IReadOnlyList<PostOutcome>>> post)
{
    private readonly Dictionary<string, List<Queued>> _lanes = [];
    private TaskCompletionSource? _drained;

    private readonly record struct Queued(NewMessage Message, TaskCompletionSource<PostOutcome> Outcome, Activity? Trace);

    /// <summary>Queues a message for <paramref name="conversation"/>; the task ends with what became of it. Fails only
    /// when the call's answer never came (the message may or may not be stored: the client retries with its id).</summary>
    public Task<PostOutcome> SendAsync(string conversation, NewMessage message)
    {
        var queued = new Queued(message, new TaskCompletionSource<PostOutcome>(TaskCreationOptions.RunContinuationsAsynchronously), Activity.Current);
        List<Queued> lane;
        lock (_lanes)
        {
            if (_lanes.TryGetValue(conversation, out var busy))
            {
                busy.Add(queued);
                return queued.Outcome.Task;
            }
            _lanes[conversation] = lane = [queued];
        }
        _ = RunAsync(conversation, lane);
        return queued.Outcome.Task;
    }

    /// <summary>Ends once every message queued so far has its outcome: what the client publishes next (an edit, an
    /// RPC) then cannot overtake them.</summary>
    public Task DrainAsync()
    {
        lock (_lanes)
        {
            if (_lanes.Count == 0)
                return Task.CompletedTask;
            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drained.Task;
        }
    }

    private async Task RunAsync(string conversation, List<Queued> lane)
    {
        while (Take(conversation, lane) is { } batch)
        {
            // The call belongs to the trace of the batch's first message (not to whichever message started the lane).
            Activity.Current = batch[0].Trace;
            try
            {
                var outcomes = await post(conversation, batch.ConvertAll(q => q.Message));
                for (var i = 0; i < batch.Count; i++)
                    batch[i].Outcome.TrySetResult(outcomes[i]);
            }
            catch (ImException ex) // the sender may not post here (not a member, blocked, disabled): none of them
            {
                foreach (var q in batch)
                    q.Outcome.TrySetResult(new PostOutcome(null, ex.Code, ex.Message));
            }
            catch (Exception ex)
            {
                foreach (var q in batch)
                    q.Outcome.TrySetException(ex);
            }
        }
    }

    /// <summary>The next batch of the lane (at most what one call takes), or null when it is empty and closed.</summary>
    private List<Queued>? Take(string conversation, List<Queued> lane)
    {
        lock (_lanes)
        {
            if (lane.Count == 0)
            {
                _lanes.Remove(conversation);
                if (_lanes.Count == 0 && _drained is { } drained)
                {
                    _drained = null;
                    drained.TrySetResult();
                }
                return null;
            }
            var take = Math.Min(lane.Count, NewMessage.MaxPerCall);
            var batch = lane.GetRange(0, take);
            lane.RemoveRange(0, take);
            return batch;
        }
    }
}
