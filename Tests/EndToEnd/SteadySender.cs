using System.Diagnostics;
using System.Text;
using ImOrleans.Tests.Infrastructure;
using MQTTnet;

namespace ImOrleans.Tests.EndToEnd;

/// <summary>A chat client sending numbered messages to one conversation as an app would: one at a time, each
/// waiting for its PUBACK, a refused or unanswered send retried with the same id. Records when each PUBACK came.</summary>
public sealed class SteadySender(string conversation, string prefix)
{
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(200);

    private readonly List<SentMessage> _acked = [];
    private readonly List<TimeSpan> _refusals = [];
    private int _next = 1;

    /// <summary>One acknowledged message: its client id, the seq the PUBACK named, when it was published and acknowledged
    /// (both on <see cref="Clock"/>).</summary>
    public sealed record SentMessage(string Id, long Seq, TimeSpan PublishedAt, TimeSpan AckedAt);

    /// <summary>The shared clock every sender stamps its sends with.</summary>
    public static Stopwatch Clock { get; } = Stopwatch.StartNew();

    public string Conversation => conversation;

    public IReadOnlyList<SentMessage> Acked { get { lock (_acked) return [.. _acked]; } }

    /// <summary>When a PUBACK refused a send (or none came), on <see cref="Clock"/>.</summary>
    public IReadOnlyList<TimeSpan> Refusals { get { lock (_acked) return [.. _refusals]; } }

    /// <summary>Sends until <paramref name="stop"/> or until <paramref name="client"/> loses its connection; a later call
    /// with a new client goes on with the message that was not acknowledged yet.</summary>
    public async Task RunAsync(MqttTestClient client, TimeSpan pause, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested && client.IsConnected)
        {
            var id = $"{prefix}{_next}";
            var publishedAt = Clock.Elapsed;
            MqttClientPublishResult? result = null;
            try
            {
                result = await client.SendAsync(conversation, id, $"message {_next}");
            }
            catch (MQTTnet.Exceptions.MqttCommunicationTimedOutException) when (client.IsConnected && !stop.IsCancellationRequested)
            {
                // No PUBACK within the client's timeout: the app retries with the same id.
            }
            catch (Exception ex) when (!client.IsConnected || stop.IsCancellationRequested || ex is MQTTnet.Exceptions.MqttCommunicationException)
            {
                // The connection is gone (a reset can surface here before the client's own state says so).
                return;
            }
            lock (_acked)
            {
                if (result is { IsSuccess: true })
                {
                    _acked.Add(new SentMessage(id, SeqOf(result), publishedAt, Clock.Elapsed));
                    _next++;
                }
                else
                {
                    _refusals.Add(Clock.Elapsed);
                }
            }
            await Task.Delay(result is { IsSuccess: true } ? pause : RetryPause, CancellationToken.None);
        }
    }

    /// <summary>Whether a send published at or after <paramref name="since"/> has been acknowledged.</summary>
    public bool AckedSince(TimeSpan since) => Acked.Any(m => m.PublishedAt >= since);

    /// <summary>The longest this client went without a successful PUBACK between <paramref name="from"/> (counting
    /// from its last one before) and <paramref name="to"/>: how long a user would have watched a message not go out.</summary>
    public TimeSpan LongestSilence(TimeSpan from, TimeSpan to)
    {
        var acks = Acked.Select(m => m.AckedAt).ToList();
        var previous = acks.LastOrDefault(t => t <= from, from);
        var longest = TimeSpan.Zero;
        foreach (var t in acks.Where(t => t > from && t <= to))
        {
            longest = t - previous > longest ? t - previous : longest;
            previous = t;
        }
        return to - previous > longest ? to - previous : longest;
    }

    private static long SeqOf(MqttClientPublishResult result) =>
        result.UserProperties?.FirstOrDefault(p => p.Name == "seq") is { } p ? long.Parse(Encoding.UTF8.GetString(p.ValueBuffer.Span)) : -1;
}
