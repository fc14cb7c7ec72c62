using ImOrleans.Grains.Push.Providers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ImOrleans.Grains.Push;

public static class PushServiceCollectionExtensions
{
    /// <summary>The push subsystem, with each provider whose credentials are in <paramref name="configuration"/>.
    /// Adds nothing when none is: push is off by default. False then.</summary>
    public static bool AddImPush(this IServiceCollection services, IConfiguration configuration)
    {
        var any = false;
        void Provider<TOptions, TProvider>(string section, string clientName, Func<TOptions, bool> configured, bool http2 = false,
            Func<TOptions, bool>? valid = null, string? invalid = null)
            where TOptions : class where TProvider : class, IPushProvider
        {
            var options = configuration.GetSection(section).Get<TOptions>();
            if (options is null || !configured(options))
                return;
            any = true;
            services.AddOptions<TOptions>().BindConfiguration(section).Validate(valid ?? (_ => true), invalid ?? section).ValidateOnStart();
            var client = services.AddHttpClient(clientName);
            if (http2) // APNs: one HTTP/2 connection carries many concurrent streams; open more only when it is full
                client.ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { EnableMultipleHttp2Connections = true });
            services.AddSingleton<TProvider>();
            services.AddSingleton<IPushProvider>(sp => sp.GetRequiredService<TProvider>());
        }

        Provider<FcmOptions, FcmProvider>(FcmOptions.Section, FcmProvider.ClientName, o => o.IsConfigured);
        Provider<ApnsOptions, ApnsProvider>(ApnsOptions.Section, ApnsProvider.ClientName, o => o.IsConfigured, http2: true,
            o => o.TokenLifetime >= TimeSpan.FromMinutes(20) && o.TokenLifetime < TimeSpan.FromMinutes(60), "Push:Apns:TokenLifetime must be 20 to 59 minutes");
        Provider<WebPushOptions, WebPushProvider>(WebPushOptions.Section, WebPushProvider.ClientName, o => o.IsConfigured);
        Provider<HmsOptions, HmsProvider>(HmsOptions.Section, HmsProvider.ClientName, o => o.IsConfigured);
        Provider<HonorOptions, HonorProvider>(HonorOptions.Section, HonorProvider.ClientName, o => o.IsConfigured);
        Provider<XiaomiOptions, XiaomiProvider>(XiaomiOptions.Section, XiaomiProvider.ClientName, o => o.IsConfigured);
        Provider<OppoOptions, OppoProvider>(OppoOptions.Section, OppoProvider.ClientName, o => o.IsConfigured);
        Provider<VivoOptions, VivoProvider>(VivoOptions.Section, VivoProvider.ClientName, o => o.IsConfigured);
        Provider<WebhookOptions, WebhookProvider>(WebhookOptions.Section, WebhookProvider.ClientName, o => o.IsConfigured);
        if (!any)
            return false;

        services.AddOptions<PushOptions>().BindConfiguration(PushOptions.Section)
            .Validate(o => o.QueueCapacity >= 1 && o.WorkersPerProvider is >= 1 and <= 256 && o.MaxAttempts is >= 1 and <= 20 && o.PreviewLength >= 1,
                "Push: QueueCapacity >= 1, WorkersPerProvider 1-256, MaxAttempts 1-20, PreviewLength >= 1")
            .Validate(o => o.RetryDelay > TimeSpan.Zero && o.MaxRetryDelay >= o.RetryDelay, "Push:RetryDelay must be positive and at most Push:MaxRetryDelay")
            .Validate(o => o.RequestTimeout > TimeSpan.Zero, "Push:RequestTimeout must be positive")
            .ValidateOnStart();
        services.AddSingleton<PushQueue>();
        services.AddHostedService(sp => sp.GetRequiredService<PushQueue>());
        return true;
    }
}
