using ImOrleans.Gateway.Auth;
using ImOrleans.Gateway.Hosting;
using Microsoft.Extensions.Options;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>CONNECT: ClientId <c>{user}/{device}</c>, Username <c>{user}</c>, Password an access token or
/// (where allowed) the account password. Each refusal gets the CONNACK code that names it.</summary>
public sealed class MqttAuthenticator(IGrainFactory grains, TokenService tokens, LoginThrottle throttle, DeviceConnections connections,
    GuardedConnections guarded, IOptions<GatewayOptions> options, ILogger<MqttAuthenticator> log)
{
    public async Task ValidateAsync(ValidatingConnectionEventArgs e)
    {
        var slash = e.ClientId?.IndexOf('/') ?? -1;
        var user = slash > 0 ? e.ClientId![..slash] : null;
        var device = slash > 0 ? e.ClientId![(slash + 1)..] : null;
        if (!Ids.IsValidUser(user) || !Ids.IsValidDevice(device))
        {
            Refuse(e, MqttConnectReasonCode.ClientIdentifierNotValid, "ClientId must be {user}/{device}");
            return;
        }
        if (e.UserName != user)
        {
            Refuse(e, MqttConnectReasonCode.BadUserNameOrPassword, "Username must be the user of the ClientId");
            return;
        }

        try
        {
            if (!await AuthenticateAsync(user!, e.Password ?? "", (e.RemoteEndPoint as System.Net.IPEndPoint)?.Address))
            {
                Refuse(e, MqttConnectReasonCode.BadUserNameOrPassword, "bad user name, password or token");
                return;
            }
            // Also the check that the account exists and is enabled (a token outlives neither).
            await grains.Ref<IUserGrain>(user).RegisterDeviceAsync(device!);
        }
        catch (ImException ex) when (ex.Code == ErrorCodes.NotFound || ex.Code == ErrorCodes.Disabled)
        {
            Refuse(e, MqttConnectReasonCode.BadUserNameOrPassword, "bad user name, password or token");
            return;
        }
        catch (ImException ex) when (ex.Code == ErrorCodes.RateLimited)
        {
            Refuse(e, MqttConnectReasonCode.ServerBusy, ex.Message);
            return;
        }
        catch (ImException ex) when (ex.Code == ErrorCodes.LimitExceeded)
        {
            // MQTT 3.1.1 has no quota code; MQTTnet would turn QuotaExceeded into "unacceptable protocol version".
            Refuse(e, e.ProtocolVersion == MQTTnet.Formatter.MqttProtocolVersion.V500
                ? MqttConnectReasonCode.QuotaExceeded : MqttConnectReasonCode.NotAuthorized, ex.Message);
            return;
        }
        catch (Exception ex) when (ex is not ImException)
        {
            log.LogWarning(ex, "Could not check the credentials of {ClientId}", e.ClientId);
            Refuse(e, MqttConnectReasonCode.ServerUnavailable, "try again later");
            return;
        }

        // Only the check happens here: MQTTnet may reuse an existing session (and its items) for this client,
        // so the connection's own state is made fresh when it is connected (MqttSessionEvents).
        e.ReasonCode = MqttConnectReasonCode.Success;
        // MQTTnet takes the device's connection here over next, and tells it so: see GuardedConnections for why
        // its input waits.
        guarded.Hold(connections.Find(e.ClientId!)?.Remote);
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

    private static void Refuse(ValidatingConnectionEventArgs e, MqttConnectReasonCode code, string reason)
    {
        GatewayMetrics.Refusals.Add(1, GatewayMetrics.Tag("reason", code.ToString()));
        e.ReasonCode = code;
        e.ReasonString = reason;
    }
}
