using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace ImOrleans.Tests.Infrastructure;

/// <summary>Accounts and tokens over a server's HTTP auth endpoints, as an app gets them.</summary>
public static class HttpAccounts
{
    /// <summary>Registers a fresh user (password <see cref="Chat.Password"/>) and returns its id.</summary>
    public static async Task<string> RegisterAsync(SiloProcess server, string prefix = "h")
    {
        var user = Unique.User(prefix);
        var response = await GatewayFixture.Http.PostAsJsonAsync($"{server.HttpBase}/v1/auth/register", new { user, password = Chat.Password });
        Assert.AreEqual(System.Net.HttpStatusCode.Created, response.StatusCode, await response.Content.ReadAsStringAsync());
        return user;
    }

    /// <summary>An access token for <paramref name="user"/> from the password grant of <c>/v1/auth/token</c>.</summary>
    public static async Task<string> TokenAsync(SiloProcess server, string user)
    {
        var response = await GatewayFixture.Http.PostAsync($"{server.HttpBase}/v1/auth/token", new FormUrlEncodedContent(
            new Dictionary<string, string> { ["grant_type"] = "password", ["username"] = user, ["password"] = Chat.Password }));
        Assert.IsTrue(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return (string)body!["access_token"]!;
    }
}
