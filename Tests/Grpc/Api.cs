using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Health.V1;
using Grpc.Net.Client;
using ImOrleans.Gateway.Grpc.V1;
using ImOrleans.Tests.Infrastructure;
using ServerReflection = Grpc.Reflection.V1.ServerReflection;

namespace ImOrleans.Tests.Grpc;

/// <summary>Generated gRPC clients over one real HTTP/2 (h2c) channel to the shared server process,
/// with or without an API key in the <c>x-api-key</c> metadata.</summary>
public sealed class Api : IDisposable
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Api? _shared;

    private Api(CallInvoker invoker, GrpcChannel channel)
    {
        Channel = channel;
        Users = new Users.UsersClient(invoker);
        Conversations = new Conversations.ConversationsClient(invoker);
        Messages = new Messages.MessagesClient(invoker);
        Presence = new Presence.PresenceClient(invoker);
        Events = new Events.EventsClient(invoker);
        Health = new Health.HealthClient(invoker);
        Reflection = new ServerReflection.ServerReflectionClient(invoker);
    }

    public GrpcChannel Channel { get; }
    public Users.UsersClient Users { get; }
    public Conversations.ConversationsClient Conversations { get; }
    public Messages.MessagesClient Messages { get; }
    public Presence.PresenceClient Presence { get; }
    public Events.EventsClient Events { get; }
    public Health.HealthClient Health { get; }
    public ServerReflection.ServerReflectionClient Reflection { get; }

    /// <summary>The API with the server's key, one channel shared by all tests (channels are thread-safe).</summary>
    public static async Task<Api> SharedAsync()
    {
        await Gate.WaitAsync();
        try
        {
            return _shared ??= await ConnectAsync(SiloProcess.ApiKey);
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>A fresh channel (the caller disposes it) sending <paramref name="apiKey"/>, or no key at all when it is null.</summary>
    public static async Task<Api> ConnectAsync(string? apiKey) => ConnectTo(await GatewayFixture.SiloAsync(), apiKey);

    /// <summary>A fresh channel to the API of <paramref name="server"/> (the caller disposes it).</summary>
    public static Api ConnectTo(SiloProcess server, string? apiKey = SiloProcess.ApiKey)
    {
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{server.GrpcPort}");
        var invoker = apiKey is null ? channel.CreateCallInvoker() : channel.Intercept(m =>
        {
            m.Add("x-api-key", apiKey);
            return m;
        });
        return new Api(invoker, channel);
    }

    public void Dispose() => Channel.Dispose();

    /// <summary>Creates a fresh user (password <see cref="Chat.Password"/>, so it can log in over MQTT too).</summary>
    public async Task<string> NewUserAsync(string prefix = "g")
    {
        var user = Unique.User(prefix);
        await Users.CreateUserAsync(new CreateUserRequest { User = user, Password = Chat.Password });
        return user;
    }

    /// <summary>Creates a group owned by <paramref name="owner"/> and returns its id.</summary>
    public async Task<string> NewGroupAsync(string owner, params string[] members)
    {
        var request = new CreateConversationRequest { AsUser = owner, Kind = ConversationKind.Group, Title = "grpc test" };
        request.Members.AddRange(members);
        return (await Conversations.CreateConversationAsync(request)).Id;
    }

    /// <summary>Sends as the system unless <paramref name="from"/> is given.</summary>
    public async Task<SendMessageResponse> SendAsync(string conversation, string body, string from = "", string id = "", string device = "") =>
        await Messages.SendMessageAsync(new SendMessageRequest
        {
            Conversation = conversation, Body = body, FromUser = from, ClientMessageId = id, Device = device,
        });
}
