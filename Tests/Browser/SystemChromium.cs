using Microsoft.Playwright;

namespace ImOrleans.Tests.Browser;

/// <summary>Debian's <c>chromium</c> (<c>apt-get install chromium</c>; <c>.ci/run</c> installs it), driven by
/// Playwright. Playwright's own browser builds are never downloaded: the machine and CI have no internet.</summary>
public sealed class SystemChromium : IAsyncDisposable
{
    /// <summary>Where the browser is; <c>IM_TEST_CHROMIUM</c> overrides it.</summary>
    public static string ExecutablePath => Environment.GetEnvironmentVariable("IM_TEST_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private readonly IPlaywright _playwright;

    public IBrowser Browser { get; }

    private SystemChromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public static async Task<SystemChromium> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
            Assert.Fail($"No Chromium at {ExecutablePath}: apt-get install chromium (or set IM_TEST_CHROMIUM)");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // Root (as on CI) cannot use Chromium's sandbox; containers often have a tiny /dev/shm.
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
        return new SystemChromium(playwright, browser);
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}
