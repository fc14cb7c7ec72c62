using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1;
using ImOrleans.Gateway.Grpc.V1;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Grpc;

/// <summary>API keys guard every service; health checking and reflection stay open for probes and tools.</summary>
[TestClass]
public sealed class AccessTests
{
    [TestMethod]
    public async Task CallsWithoutTheRightKeyAreUnauthenticated()
    {
        using var noKey = await Api.ConnectAsync(apiKey: null);
        using var wrongKey = await Api.ConnectAsync("not-the-key");
        var user = Unique.User("nokey");

        var missing = await Refused.WithAsync(StatusCode.Unauthenticated,
            () => noKey.Users.CreateUserAsync(new CreateUserRequest { User = user, Password = Chat.Password }).ResponseAsync);
        var wrong = await Refused.WithAsync(StatusCode.Unauthenticated,
            () => wrongKey.Users.CreateUserAsync(new CreateUserRequest { User = user, Password = Chat.Password }).ResponseAsync);
        await Refused.WithAsync(StatusCode.Unauthenticated, async () =>
        {
            using var stream = noKey.Events.Subscribe(new SubscribeRequest());
            await stream.ResponseStream.MoveNext();
        });

        StringAssert.Contains(missing.Status.Detail, "x-api-key");
        StringAssert.Contains(wrong.Status.Detail, "unknown API key");
        var api = await Api.SharedAsync();
        await Refused.WithAsync(StatusCode.NotFound, () => api.Users.GetUserAsync(new GetUserRequest { User = user }).ResponseAsync);
    }

    [TestMethod]
    public async Task ClientFacingHttpPortDoesNotServeTheApi()
    {
        var silo = await GatewayFixture.SiloAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{silo.HttpBase}/im.v1.Users/GetUser")
        {
            Content = new ByteArrayContent([0, 0, 0, 0, 0]),
        };
        request.Content.Headers.ContentType = new("application/grpc");
        request.Headers.Add("x-api-key", SiloProcess.ApiKey);

        var response = await GatewayFixture.Http.SendAsync(request);

        Assert.AreEqual(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }

    [TestMethod]
    public async Task HealthCheckServesWithoutAKey()
    {
        using var noKey = await Api.ConnectAsync(apiKey: null);

        var server = await noKey.Health.CheckAsync(new HealthCheckRequest());
        var messages = await noKey.Health.CheckAsync(new HealthCheckRequest { Service = "im.v1.Messages" });

        Assert.AreEqual(HealthCheckResponse.Types.ServingStatus.Serving, server.Status);
        Assert.AreEqual(HealthCheckResponse.Types.ServingStatus.Serving, messages.Status);
    }

    [TestMethod]
    public async Task ReflectionListsTheServicesWithoutAKey()
    {
        using var noKey = await Api.ConnectAsync(apiKey: null);
        using var call = noKey.Reflection.ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        var response = await Streams.NextAsync(call.ResponseStream, "the list of services");

        var names = response.ListServicesResponse.Service.Select(s => s.Name).ToList();
        foreach (var expected in new[] { "im.v1.Users", "im.v1.Conversations", "im.v1.Messages", "im.v1.Presence", "im.v1.Events", "grpc.health.v1.Health" })
            CollectionAssert.Contains(names, expected);
    }
}
