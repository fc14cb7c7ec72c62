using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using ImOrleans.Gateway.Auth;
using ImOrleans.Gateway.Grpc.V1;
using Microsoft.Extensions.Options;

namespace ImOrleans.Gateway.Grpc;

/// <summary><c>im.v1.Users</c>: accounts, passwords and access tokens.</summary>
public sealed class UsersService(IGrainFactory grains, TokenService tokens, IOptions<AuthOptions> auth, IOptions<GrpcOptions> options)
    : Users.UsersBase
{
    public override async Task<User> CreateUser(CreateUserRequest request, ServerCallContext context)
    {
        var user = Require.User(request.User, "user");
        await Grain(user).CreateAsync(request.Password);
        return (await Grain(user).GetProfileAsync()).ToProto();
    }

    public override async Task<User> GetUser(GetUserRequest request, ServerCallContext context) =>
        (await Accounts.RequireExistingAsync(grains, Require.User(request.User, "user"))).ToProto();

    public override Task<User> DisableUser(DisableUserRequest request, ServerCallContext context) =>
        SetDisabledAsync(Require.User(request.User, "user"), true);

    public override Task<User> EnableUser(EnableUserRequest request, ServerCallContext context) =>
        SetDisabledAsync(Require.User(request.User, "user"), false);

    public override async Task<SetPasswordResponse> SetPassword(SetPasswordRequest request, ServerCallContext context)
    {
        await Grain(Require.User(request.User, "user")).SetPasswordAsync(request.Password);
        return new SetPasswordResponse();
    }

    public override async Task<IssueTokenResponse> IssueToken(IssueTokenRequest request, ServerCallContext context)
    {
        var user = Require.User(request.User, "user");
        if (user == Ids.SystemUser)
            throw Require.Invalid("user", "the system sender cannot log in");
        var max = options.Value.MaxTokenLifetime;
        if (request.LifetimeSeconds < 0 || request.LifetimeSeconds > max.TotalSeconds)
            throw Require.Invalid("lifetime_seconds", $"must be between 0 (the default, {auth.Value.AccessTokenLifetime}) and {(long)max.TotalSeconds}");
        var lifetime = request.LifetimeSeconds == 0 ? auth.Value.AccessTokenLifetime : TimeSpan.FromSeconds(request.LifetimeSeconds);
        await Accounts.RequireEnabledAsync(grains, user);

        var issuedAt = DateTimeOffset.UtcNow;
        return new IssueTokenResponse
        {
            AccessToken = tokens.IssueAccessToken(user, lifetime),
            ExpiresAt = Timestamp.FromDateTimeOffset(issuedAt + lifetime),
            ExpiresInSeconds = (long)lifetime.TotalSeconds,
        };
    }

    public override async Task<PurgeUserResponse> PurgeUser(PurgeUserRequest request, ServerCallContext context)
    {
        var user = Require.User(request.User, "user");
        if (user == Ids.SystemUser)
            throw Require.Invalid("user", "the system sender is not an account");
        await Grain(user).EraseAsync();
        return new PurgeUserResponse();
    }

    public override async Task<ListPushRegistrationsResponse> ListPushRegistrations(ListPushRegistrationsRequest request, ServerCallContext context)
    {
        var user = await RequireAccountAsync(request.User);
        var overview = await grains.Ref<IPushGrain>(user).GetAsync();
        var response = new ListPushRegistrationsResponse();
        response.Registrations.AddRange(overview.Registrations.OrderBy(r => r.Device, StringComparer.Ordinal).Select(r => new PushRegistration
        {
            Device = r.Device,
            Provider = r.Target.Provider,
            Sandbox = r.Target.Sandbox,
            RegisteredAt = Timestamp.FromDateTimeOffset(r.RegisteredAt),
        }));
        return response;
    }

    public override async Task<RemovePushRegistrationResponse> RemovePushRegistration(RemovePushRegistrationRequest request, ServerCallContext context)
    {
        var user = await RequireAccountAsync(request.User);
        var device = Require.Device(request.Device, "device");
        if (!await grains.Ref<IPushGrain>(user).UnregisterAsync(device))
            throw new RpcException(new Status(StatusCode.NotFound, $"device '{device}' of '{user}' has no push registration"));
        return new RemovePushRegistrationResponse();
    }

    private async Task<string> RequireAccountAsync(string id)
    {
        var user = Require.User(id, "user");
        if (!(await Grain(user).GetProfileAsync()).Exists)
            throw new RpcException(new Status(StatusCode.NotFound, $"user '{user}' does not exist"));
        return user;
    }

    private async Task<User> SetDisabledAsync(string user, bool disabled)
    {
        await Grain(user).SetDisabledAsync(disabled);
        return (await Grain(user).GetProfileAsync()).ToProto();
    }

    private IUserGrain Grain(string user) => grains.Ref<IUserGrain>(user);
}
