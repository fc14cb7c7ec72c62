using Grpc.Core;
using ImOrleans.Gateway.Grpc.V1;
using ImOrleans.Tests.Infrastructure;
using MQTTnet;

namespace ImOrleans.Tests.Grpc;

/// <summary><c>im.v1.Users</c> over real HTTP/2, checked against real MQTT logins.</summary>
[TestClass]
public sealed class UsersApiTests
{
    [TestMethod]
    public async Task CreatedUserCanBeReadAndLogsInOverMqtt()
    {
        var api = await Api.SharedAsync();
        var user = Unique.User("gu");

        var created = await api.Users.CreateUserAsync(new CreateUserRequest { User = user, Password = Chat.Password });
        await using var phone = await GatewayFixture.ConnectAsync(user, "phone");
        var read = await api.Users.GetUserAsync(new GetUserRequest { User = user });

        Assert.AreEqual(user, created.Id);
        Assert.IsFalse(created.Disabled);
        Assert.IsTrue(created.CreatedAt.ToDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        CollectionAssert.AreEqual(new[] { "phone" }, read.Devices.ToArray(), "the device that connected is listed");
    }

    [TestMethod]
    public async Task DisabledUserCannotLogInOrGetATokenUntilEnabled()
    {
        var api = await Api.SharedAsync();
        var silo = await GatewayFixture.SiloAsync();
        var user = await api.NewUserAsync();

        var disabled = await api.Users.DisableUserAsync(new DisableUserRequest { User = user });
        await using (var refused = await MqttTestClient.ConnectAsync(silo.MqttPort, user, "phone", Chat.Password, subscribe: false))
            Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, refused.ConnectResult.ResultCode);
        await Refused.WithAsync(StatusCode.FailedPrecondition,
            () => api.Users.IssueTokenAsync(new IssueTokenRequest { User = user }).ResponseAsync, ErrorCodes.Disabled);
        var enabled = await api.Users.EnableUserAsync(new EnableUserRequest { User = user });
        await using var phone = await GatewayFixture.ConnectAsync(user, "phone");

        Assert.IsTrue(disabled.Disabled);
        Assert.IsFalse(enabled.Disabled);
    }

    [TestMethod]
    public async Task TokenIssuedBeforeTheDisablingNoLongerConnects()
    {
        var api = await Api.SharedAsync();
        var silo = await GatewayFixture.SiloAsync();
        var user = await api.NewUserAsync();
        var token = (await api.Users.IssueTokenAsync(new IssueTokenRequest { User = user })).AccessToken;

        await api.Users.DisableUserAsync(new DisableUserRequest { User = user });
        await using (var refused = await MqttTestClient.ConnectAsync(silo.MqttPort, user, "phone", token, subscribe: false))
            Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, refused.ConnectResult.ResultCode, refused.ConnectResult.ReasonString);
        await api.Users.EnableUserAsync(new EnableUserRequest { User = user });
        await using var phone = await GatewayFixture.ConnectAsync(user, "phone", password: token);
        var read = await api.Users.GetUserAsync(new GetUserRequest { User = user });

        CollectionAssert.AreEqual(new[] { "phone" }, read.Devices.ToArray(), "only the accepted connect registered the device");
    }

    [TestMethod]
    public async Task NewPasswordReplacesTheOldOneForMqttLogins()
    {
        var api = await Api.SharedAsync();
        var silo = await GatewayFixture.SiloAsync();
        var user = await api.NewUserAsync();

        await api.Users.SetPasswordAsync(new SetPasswordRequest { User = user, Password = "a much better password" });

        await using (var old = await MqttTestClient.ConnectAsync(silo.MqttPort, user, "phone", Chat.Password, subscribe: false))
            Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, old.ConnectResult.ResultCode);
        await using var fresh = await GatewayFixture.ConnectAsync(user, "phone", password: "a much better password");
    }

    [TestMethod]
    public async Task IssuedTokenIsAnMqttPasswordWithTheAskedLifetime()
    {
        var api = await Api.SharedAsync();
        var user = await api.NewUserAsync();

        var issued = await api.Users.IssueTokenAsync(new IssueTokenRequest { User = user, LifetimeSeconds = 600 });
        var byDefault = await api.Users.IssueTokenAsync(new IssueTokenRequest { User = user });
        await using var phone = await GatewayFixture.ConnectAsync(user, "phone", password: issued.AccessToken);

        Assert.AreEqual(600, issued.ExpiresInSeconds);
        Assert.AreEqual(600, (issued.ExpiresAt.ToDateTimeOffset() - DateTimeOffset.UtcNow).TotalSeconds, 30);
        Assert.AreEqual(3600, byDefault.ExpiresInSeconds, "the configured access token lifetime");
        await Refused.WithAsync(StatusCode.InvalidArgument,
            () => api.Users.IssueTokenAsync(new IssueTokenRequest { User = user, LifetimeSeconds = 400 * 24 * 3600 }).ResponseAsync);
    }

    [TestMethod]
    public async Task RefusalsCarryTheMatchingStatus()
    {
        var api = await Api.SharedAsync();
        var user = await api.NewUserAsync();

        await Refused.WithAsync(StatusCode.AlreadyExists,
            () => api.Users.CreateUserAsync(new CreateUserRequest { User = user, Password = Chat.Password }).ResponseAsync, ErrorCodes.AlreadyExists);
        await Refused.WithAsync(StatusCode.InvalidArgument,
            () => api.Users.CreateUserAsync(new CreateUserRequest { User = "Not Valid", Password = Chat.Password }).ResponseAsync, ErrorCodes.InvalidId);
        await Refused.WithAsync(StatusCode.InvalidArgument,
            () => api.Users.CreateUserAsync(new CreateUserRequest { User = Unique.User(), Password = "short" }).ResponseAsync, ErrorCodes.WeakPassword);
        await Refused.WithAsync(StatusCode.InvalidArgument,
            () => api.Users.CreateUserAsync(new CreateUserRequest { User = Ids.SystemUser, Password = Chat.Password }).ResponseAsync, ErrorCodes.InvalidId);
        await Refused.WithAsync(StatusCode.NotFound,
            () => api.Users.GetUserAsync(new GetUserRequest { User = Unique.User("nobody") }).ResponseAsync, ErrorCodes.NotFound);
        await Refused.WithAsync(StatusCode.NotFound,
            () => api.Users.DisableUserAsync(new DisableUserRequest { User = Unique.User("nobody") }).ResponseAsync, ErrorCodes.NotFound);
        await Refused.WithAsync(StatusCode.InvalidArgument,
            () => api.Users.SetPasswordAsync(new SetPasswordRequest { User = user, Password = "" }).ResponseAsync, ErrorCodes.WeakPassword);
    }
}
