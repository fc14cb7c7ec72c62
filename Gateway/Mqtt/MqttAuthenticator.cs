using ImOrleans.Gateway.Auth;
using ImOrleans.Gateway.Hosting;
using Microsoft.Extensions.Options;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>CONNECT: ClientId <c>{user}/{device}</c>, Username <c>{user}</c>, Password an access token or
/// (where allowed) the account password. Each refusal gets the CONNACK code that names it.</summary>
public sealed class MqttAuthenticator(IGrainFactory grains, TokenService tokens, LoginThrottle throttle,
    IOptions<GatewayOptions> options, ILogger<MqttAuthenticator> log)
{
    /// <summary>What the CONNACK says: success, or the refusal and why.</summary>
    public readonly record struct Verdict(MqttConnectReasonCode Code, string? Reason = null);

    public async Task<Verdict> ValidateAsync(string? clientId, string? userName, string? password, MqttProtocolVersion version,
        System.Net.EndPoint? remote)
    {
        var slash = clientId?.IndexOf('/') ?? -1;
        var user = slash > 0 ? clientId![..slash] : null;
        var device = slash > 0 ? clientId![(slash + 1)..] : null;
        if (!Ids.IsValidUser(user) || !Ids.IsValidDevice(device))
            return Refuse(MqttConnectReasonCode.ClientIdentifierNotValid, "ClientId must be {user}/{device}");
        if (userName != user)
            return Refuse(MqttConnectReasonCode.BadUserNameOrPassword, "Username must be the user of the ClientId");

        try
        {
            if (!await AuthenticateAsync(user!, password ?? "", (remote as System.Net.IPEndPoint)?.Address))
                return Refuse(MqttConnectReasonCode.BadUserNameOrPassword, "bad user name, password or token");
            // Also the check that the account exists and is enabled (a token outlives neither).
            await grains.Ref<IUserGrain>(user!).RegisterDeviceAsync(device!);
        }
        catch (ImException ex) when (ex.Code == ErrorCodes.NotFound || ex.Code == ErrorCodes.Disabled)
        {
            return Refuse(MqttConnectReasonCode.BadUserNameOrPassword, "bad user name, password or token");
        }
        catch (ImException ex) when (ex.Code == ErrorCodes.RateLimited)
        {
            return Refuse(MqttConnectReasonCode.ServerBusy, ex.Message);
        }
        catch (ImException ex) when (ex.Code == ErrorCodes.LimitExceeded)
        {
            // MQTT 3.1.1 has no quota code: its return code would be "unacceptable protocol version".
            return Refuse(version == MqttProtocolVersion.V500 ? MqttConnectReasonCode.QuotaExceeded : MqttConnectReasonCode.NotAuthorized, ex.Message);
        }
        catch (Exception ex) when (ex is not ImException)
        {
            log.LogWarning(ex, "Could not check the credentials of {ClientId}", clientId);
            return Refuse(MqttConnectReasonCode.ServerUnavailable, "try again later");
        }
        return new Verdict(MqttConnectReasonCode.Success);
    }

    private async Task<bool> AuthenticateAsync(string user, string password, System.Net.IPAddress? address)
    {
        // Something shaped like a JWT (three dot-separated parts) is tried as a token first; a password
        // that merely looks like one still works as a password.
        if (password.Count(c => c == '.') == 2 && await tokens.ValidateAccessTokenAsync(password) is { } subject)
            return subject == user; // whether the account is active, registering the device tells
        if (!options.Value.PasswordLogin || password.Length == 0)
            return false;
        if (!throttle.TryAttempt(user, address))
            throw new ImException(ErrorCodes.RateLimited, "too many password attempts; wait a minute or use a token");
        if (await grains.Ref<IUserGrain>(user).VerifyPasswordAsync(password))
            return true;
        throttle.Failed(address);
        return false;
    }

    private static Verdict Refuse(MqttConnectReasonCode code, string reason)
    {
        GatewayMetrics.Refusals.Add(1, GatewayMetrics.Tag("reason", code.ToString()));
        return new Verdict(code, reason);
    }
}
