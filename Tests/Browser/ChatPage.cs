using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace ImOrleans.Tests.Browser;

/// <summary>One user's browser tab on the web client, in its own browser context (its own storage, as another
/// browser would have), driven the way a person would: labels, buttons, the Enter key.</summary>
public sealed class ChatPage : IAsyncDisposable
{
    public const string Password = "correct horse battery";

    /// <summary>Long enough for a reconnect after a server restart (the client backs off up to 30 s).</summary>
    public const float Slow = 90_000;

    private readonly IBrowserContext _context;
    private readonly ConcurrentQueue<string> _problems = new();

    public IPage Page { get; }
    public string User { get; }

    private ChatPage(IBrowserContext context, IPage page, string user)
    {
        _context = context;
        Page = page;
        User = user;
        // Uncaught exceptions and refusals by the Content-Security-Policy are bugs; failed WebSocket attempts while
        // the server is down are not.
        page.PageError += (_, error) => _problems.Enqueue($"page error: {error}");
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
                _problems.Enqueue($"console: {message.Text}");
        };
        page.SetDefaultTimeout(15_000);
    }

    public static async Task<ChatPage> OpenAsync(IBrowser browser, string url, string user, int width = 1000, int height = 640)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        var page = await context.NewPageAsync();
        var chat = new ChatPage(context, page, user);
        await page.GotoAsync(url);
        return chat;
    }

    /// <summary>What went wrong in the page so far (uncaught errors, CSP refusals).</summary>
    public IReadOnlyList<string> Problems => [.. _problems];

    public Task SignUpAsync() => SubmitLoginAsync("Sign up");

    public Task SignInAsync() => SubmitLoginAsync("Sign in");

    private async Task SubmitLoginAsync(string button)
    {
        await Page.GetByLabel("User name").FillAsync(User);
        await Page.GetByLabel("Password").FillAsync(Password);
        await Page.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync();
        await WaitOnlineAsync();
    }

    public ILocator ConnectionState => Page.Locator("#connection");

    public Task WaitOnlineAsync(float timeout = 15_000) =>
        Page.Locator("#connection[data-state=online]").WaitForAsync(new() { Timeout = timeout });

    public async Task OpenDirectAsync(string other)
    {
        await Page.GetByLabel("Chat with").FillAsync(other);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Open", Exact = true }).ClickAsync();
        await Assertions.Expect(Page.Locator("#chat-title")).ToHaveTextAsync(other);
    }

    /// <summary>Types into the composer and presses Enter.</summary>
    public async Task SendAsync(string text)
    {
        var composer = Page.GetByLabel("Write a message");
        await composer.FillAsync(text);
        await composer.PressAsync("Enter");
    }

    public ILocator Conversation(string conv) => Page.Locator($".conversation[data-conv='{conv}']");

    /// <summary>A stored message in the open conversation (it has a seq).</summary>
    public ILocator Message(string text) => Page.Locator(".message[data-seq]", new() { HasText = text });

    public ILocator Pending(string text) => Page.Locator(".message[data-pending]", new() { HasText = text });

    public ILocator Tick(string text) => Message(text).Locator(".tick");

    /// <summary>The seqs of the messages shown, in page order.</summary>
    public async Task<long[]> SeqsAsync() =>
        (await Page.Locator(".message[data-seq]").EvaluateAllAsync<string[]>("nodes => nodes.map(n => n.dataset.seq)")).Select(long.Parse).ToArray();

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}
