using Grpc.Core;
using ImOrleans.Gateway.Grpc.V1;

namespace ImOrleans.Gateway.Grpc;

/// <summary><c>im.v1.Presence</c>: the trusted view (<c>GetPresenceAsync(null)</c>), not the contacts-only one apps get.</summary>
public sealed class PresenceService(IGrainFactory grains, IHostApplicationLifetime lifetime) : V1.Presence.PresenceBase
{
    /// <summary>How often a watch asks the user grains. Presence has no store-wide feed to follow; polling a
    /// bounded list of users once a second costs little and needs no subscription that could leak.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    public override async Task<GetPresenceResponse> GetPresence(GetPresenceRequest request, ServerCallContext context)
    {
        var users = Require.Users(request.Users, "users", min: 1);
        var current = await ReadAsync(users);
        var response = new GetPresenceResponse();
        // In request order, one entry per requested id (a repeated id gets a repeated entry).
        response.Presence.AddRange(request.Users.Select(u => current[u]));
        return response;
    }

    public override async Task WatchPresence(WatchPresenceRequest request, IServerStreamWriter<UserPresence> responseStream, ServerCallContext context)
    {
        var users = Require.Users(request.Users, "users", min: 1);
        var sent = new Dictionary<string, UserPresence>();
        await StreamLoop.RunAsync(context, lifetime, async ct =>
        {
            while (true)
            {
                var current = await ReadAsync(users);
                foreach (var user in users)
                {
                    if (sent.TryGetValue(user, out var previous) && previous.Equals(current[user]))
                        continue;
                    await responseStream.WriteAsync(current[user], ct);
                    sent[user] = current[user];
                }
                await Task.Delay(PollInterval, ct);
            }
        }, () => "the server is shutting down; watch again");
    }

    private async Task<Dictionary<string, UserPresence>> ReadAsync(IReadOnlyList<string> users)
    {
        var presence = await Task.WhenAll(users.Select(u => grains.Ref<IUserGrain>(u).GetPresenceAsync(null)));
        return presence.ToDictionary(p => p.User, p => p.ToProto());
    }
}
