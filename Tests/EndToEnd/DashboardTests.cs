using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.EndToEnd;

/// <summary>The Orleans Dashboard: off unless enabled, and never without a password outside Development.</summary>
[TestClass]
public sealed class DashboardTests
{
    [TestMethod]
    public async Task TheDashboardIsOffByDefault()
    {
        await using var server = await SiloProcess.StartAsync(TempDirectory.Create("nodash"));
        Assert.AreEqual(HttpStatusCode.NotFound, (await GatewayFixture.Http.GetAsync($"{server.HttpBase}/dashboard")).StatusCode);
    }

    [TestMethod]
    public async Task AnEnabledDashboardAsksForItsPassword()
    {
        await using var server = await SiloProcess.StartAsync(TempDirectory.Create("dash"), "--Dashboard:Enabled=true", "--Dashboard:Password=s3cret-enough");

        Assert.AreEqual(HttpStatusCode.Unauthorized, (await GetAsync(server, null)).StatusCode, "no credentials");
        Assert.AreEqual(HttpStatusCode.Unauthorized, (await GetAsync(server, "admin:wrong")).StatusCode, "a wrong password");
        var page = await GetAsync(server, "admin:s3cret-enough");
        Assert.AreEqual(HttpStatusCode.OK, page.StatusCode, "the right password");
        StringAssert.Contains(await page.Content.ReadAsStringAsync(), "<html", StringComparison.OrdinalIgnoreCase);
    }

    [TestMethod]
    public async Task AnEnabledDashboardWithoutAPasswordRefusesToStartOutsideDevelopment()
    {
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            SiloProcess.StartAsync(TempDirectory.Create("opendash"), "--Dashboard:Enabled=true"));
        StringAssert.Contains(failed.Message, "Dashboard:Password is required");
    }

    private static Task<HttpResponseMessage> GetAsync(SiloProcess server, string? credentials)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"{server.HttpBase}/dashboard/");
        if (credentials is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return GatewayFixture.Http.SendAsync(request);
    }
}
