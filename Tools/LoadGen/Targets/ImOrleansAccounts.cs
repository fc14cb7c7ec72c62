using System.Net.Http.Json;
using System.Text.Json;

namespace ImOrleans.Tools.LoadGen.Targets;

/// <summary>ImOrleans accounts over its HTTP endpoints: <c>POST /v1/auth/register</c>, and an access token from
/// <c>POST /v1/auth/token</c> (password grant).</summary>
public sealed class ImOrleansAccounts(string host, int httpPort) : IDisposable
{
    public const string Password = "load-test-password";

    private readonly HttpClient _http = new() { BaseAddress = new Uri($"http://{host}:{httpPort}"), Timeout = TimeSpan.FromSeconds(60) };

    public async Task RegisterAsync(string user)
    {
        using var response = await _http.PostAsJsonAsync("/v1/auth/register", new { user, password = Password });
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"register {user}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public async Task<string> TokenAsync(string user)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password", ["username"] = user, ["password"] = Password,
        });
        using var response = await _http.PostAsync("/v1/auth/token", form);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"token for {user}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    public void Dispose() => _http.Dispose();
}
