using System.Text.Json.Nodes;
using ImOrleans.Grains.Push;
using ImOrleans.Grains.Push.Providers;
using ImOrleans.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ImOrleans.Tests.Push;

/// <summary>Builds providers exactly as the silo does (<see cref="PushServiceCollectionExtensions.AddImPush"/> over
/// configuration keys), with their endpoints pointed at fake servers.</summary>
public sealed class PushTestProviders : IDisposable
{
    private readonly ServiceProvider _services;

    public PushTestProviders(Dictionary<string, string?> configuration, TimeProvider? time = null)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(configuration).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        if (time is not null)
            services.AddSingleton(time);
        services.AddSingleton<IConfiguration>(config);
        Assert.IsTrue(services.AddImPush(config), "a provider is configured");
        // The fake APNs has a throwaway certificate; everything else about the client is as configured.
        services.AddHttpClient(ApnsProvider.ClientName).ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        });
        _services = services.BuildServiceProvider();
    }

    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    /// <summary>A queue over one provider, as the silo runs it, with quick retries; it never reaches a grain here
    /// (dead tokens are returned, and their deletion is covered end to end).</summary>
    public static PushQueue Queue(IPushProvider provider, int maxAttempts = 3) => new([provider],
        Options.Create(new PushOptions { MaxAttempts = maxAttempts, RetryDelay = TimeSpan.FromMilliseconds(100), MaxRetryDelay = TimeSpan.FromSeconds(5) }),
        null!, NullLogger<PushQueue>.Instance);

    public static PushNotification Notification(string provider, string token, bool sandbox = false) =>
        new("bob", "phone", new PushTarget(provider, token, sandbox), "d:alice:bob", 7, "alice", "alice", PushGrain.NoPreview, 3);

    public static JsonObject Json(string text) => JsonNode.Parse(text)!.AsObject();

    public static Dictionary<string, string> Form(string body) => body.Split('&').Select(p => p.Split('=', 2))
        .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => Uri.UnescapeDataString(p[1].Replace('+', ' ')));

    public void Dispose() => _services.Dispose();

    /// <summary>A clock the test moves by hand.</summary>
    public sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;
        public override DateTimeOffset GetUtcNow() => Now;
    }
}
