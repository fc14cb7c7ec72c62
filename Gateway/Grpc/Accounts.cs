namespace ImOrleans.Gateway.Grpc;

/// <summary>Account checks before acting for a user. The grains check membership and roles but trust the caller
/// about the account itself (over MQTT a disabled user cannot even connect); this API can act as anyone, so it checks.</summary>
public static class Accounts
{
    /// <summary>Fails with not_found when the account does not exist and disabled when it is disabled.
    /// The system passes: it is not an account.</summary>
    public static async Task RequireEnabledAsync(IGrainFactory grains, string user)
    {
        if (user == Ids.SystemUser)
            return;
        var profile = await RequireExistingAsync(grains, user);
        if (profile.Disabled)
            throw new ImException(ErrorCodes.Disabled, $"user '{user}' is disabled");
    }

    public static async Task<Models.UserProfile> RequireExistingAsync(IGrainFactory grains, string user)
    {
        var profile = await grains.Ref<IUserGrain>(user).GetProfileAsync();
        return profile.Exists ? profile : throw new ImException(ErrorCodes.NotFound, $"user '{user}' does not exist");
    }
}
