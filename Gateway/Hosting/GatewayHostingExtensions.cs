using System.Net;
using System.Security.Cryptography.X509Certificates;
using ImOrleans.Gateway.Attachments;
using ImOrleans.Gateway.Auth;
using ImOrleans.Gateway.Mqtt;

namespace ImOrleans.Gateway.Hosting;

public static class GatewayHostingExtensions
{
    /// <summary>Kestrel on the configured HTTP address and port (health, auth, MQTT over WebSocket).</summary>
    public static WebApplicationBuilder AddImHttp(this WebApplicationBuilder builder)
    {
        var http = builder.Configuration.GetSection(HttpOptions.Section).Get<HttpOptions>() ?? new HttpOptions();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse(http.Address), http.Port));
        builder.Services.AddHealthChecks().AddCheck<ClusterHealthCheck>("cluster");
        return builder;
    }

    /// <summary><c>/healthz</c>: the process is alive. <c>/readyz</c>: it can reach the cluster (in a silo: itself).</summary>
    public static WebApplication MapImHealth(this WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Ok("ok"));
        app.MapHealthChecks("/readyz");
        return app;
    }

    /// <summary>The client-facing gateway: MQTT listeners (TCP, TLS, WebSocket), auth endpoints, the grain bridge.
    /// Needs an <see cref="IGrainFactory"/> from either an Orleans client or the silo it runs in.</summary>
    public static WebApplicationBuilder AddImGateway(this WebApplicationBuilder builder)
    {
        var o = builder.Configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>() ?? new GatewayOptions();
        var cluster = HostingMode.IsCluster(builder.Configuration);
        // The silos' Limits:ConnectionLease: a connection not renewed within it is taken for gone.
        var lease = builder.Configuration.GetValue("Limits:ConnectionLease", TimeSpan.FromMinutes(3));
        builder.Services.AddOptions<GatewayOptions>()
            // The mode's defaults first, so that configured values override them.
            .Configure(g => g.OpenRegistration = g.PasswordLogin = !cluster)
            .BindConfiguration(GatewayOptions.Section)
            .Validate(g => g.MaxPayloadBytes > 0 && g.MaxInFlightPerDevice > 0 && g.RatePerSecond > 0 && g.RateBurst > 0 && g.MaxPendingConnections > 0,
                "Gateway: MaxPayloadBytes, MaxInFlightPerDevice, RatePerSecond, RateBurst and MaxPendingConnections must be positive")
            .Validate(g => g.ConnectTimeout > TimeSpan.Zero, "Gateway:ConnectTimeout must be positive")
            // A connection's unacknowledged publishes need packet identifiers of their own: at most 65 535.
            .Validate(g => g.MaxInFlightPerDevice <= 30_000, "Gateway:MaxInFlightPerDevice must be at most 30000")
            .Validate(g => g.DeliveryWindow >= 1 && g.DeliveryWindow < g.MaxInFlightPerDevice,
                "Gateway:DeliveryWindow must be at least 1 and below Gateway:MaxInFlightPerDevice")
            .Validate(g => g.AckDelay >= TimeSpan.Zero && g.AckDelay <= TimeSpan.FromSeconds(10),
                "Gateway:AckDelay must be between 0 and 00:00:10")
            .Validate(g => g.TouchInterval > TimeSpan.Zero && g.TouchInterval <= lease / 2,
                $"Gateway:TouchInterval must be positive and at most half of Limits:ConnectionLease ({lease / 2})")
            .ValidateOnStart();
        builder.Services.AddImAuth();
        builder.Services.AddOptions<CallRetryOptions>().BindConfiguration(CallRetryOptions.Section)
            .Validate(r => r.AttemptTimeout > TimeSpan.Zero && r.Budget >= r.AttemptTimeout && r.Budget < TimeSpan.FromSeconds(30),
                "Gateway:Retry: AttemptTimeout must be positive, and Budget at least AttemptTimeout and below Orleans' 30 s response timeout")
            .ValidateOnStart();
        builder.Services.AddSingleton<IdempotentCalls>();

        builder.Services.AddSingleton<DeviceConnections>();
        builder.Services.AddSingleton<MqttConnectionGuard>();
        builder.Services.AddSingleton<MqttConnectionHandler>();
        builder.Services.AddSingleton<MqttSessions>();
        builder.Services.AddHostedService(s => s.GetRequiredService<MqttSessions>());
        builder.Services.AddSingleton<MqttDrain>();
        builder.Services.AddHostedService(s => s.GetRequiredService<MqttDrain>());
        builder.Services.AddHealthChecks().AddCheck<MqttDrain>("draining");
        builder.Services.AddSingleton<MqttAuthenticator>();
        builder.Services.AddSingleton<MqttSessionEvents>();
        builder.Services.AddSingleton<PublishRouter>();
        builder.Services.AddSingleton<SubscriptionGuard>();
        builder.Services.AddSingleton<RpcHandler>();
        builder.Services.AddHostedService<ConnectionLeaseRenewer>();

        builder.Services.AddConnections();

        var address = IPAddress.Parse(o.Address);
        builder.WebHost.ConfigureKestrel(k =>
        {
            if (o.MqttPort > 0)
                k.Listen(address, o.MqttPort, l => l.UseGuardedMqtt("tcp"));
            if (!string.IsNullOrEmpty(o.TlsCertificatePath))
            {
                var cert = X509CertificateLoader.LoadPkcs12FromFile(o.TlsCertificatePath, o.TlsCertificatePassword);
                k.Listen(address, o.MqttTlsPort, l =>
                {
                    l.UseHttps(cert);
                    l.UseGuardedMqtt("tls");
                });
            }
        });
        builder.AddImGrpc();
        builder.AddImWebClient();
        builder.AddImAttachments();
        return builder;
    }

    /// <summary>Maps the HTTP side, MQTT over WebSocket among it.</summary>
    public static WebApplication MapImGateway(this WebApplication app)
    {
        app.UseWebSockets();
        app.MapMqttWebSocket("/mqtt");
        app.MapAuthEndpoints();
        app.MapImWebClient();
        app.MapAttachmentEndpoints();
        app.Lifetime.ApplicationStarted.Register(() => LogEndpoints(app));
        app.MapImGrpc();
        return app;
    }

    private static void LogEndpoints(WebApplication app)
    {
        var o = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<GatewayOptions>>().Value;
        var http = app.Configuration.GetSection(HttpOptions.Section).Get<HttpOptions>() ?? new HttpOptions();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ImOrleans.Gateway");
        log.LogInformation("MQTT on {Address}:{Port} (TCP){Tls}; MQTT over WebSocket and auth on {Http} (/mqtt, /v1/auth)",
            o.Address, o.MqttPort, string.IsNullOrEmpty(o.TlsCertificatePath) ? "" : $", {o.Address}:{o.MqttTlsPort} (TLS)",
            $"http://{http.Address}:{http.Port}");
    }
}
