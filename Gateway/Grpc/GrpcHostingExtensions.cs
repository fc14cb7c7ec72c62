using System.Net;
using ImOrleans.Gateway.Grpc;
using ImOrleans.Gateway.Grpc.V1;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;

// In the hosting namespace with the other AddIm*/MapIm* wiring, so hosts find it with the using they already have.
namespace ImOrleans.Gateway.Hosting;

public static class GrpcHostingExtensions
{
    /// <summary>The internal gRPC API (<c>im.v1</c>) on its own HTTP/2 port, with API-key checks, health checking
    /// and reflection. Nothing is added when <c>Grpc:Port</c> is 0.</summary>
    public static WebApplicationBuilder AddImGrpc(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<GrpcOptions>().BindConfiguration(GrpcOptions.Section)
            .Validate(o => o.Port is >= 0 and <= 65535, "Grpc:Port must be a TCP port, or 0 to turn the gRPC API off")
            .Validate(o => o.ApiKeys.All(k => !string.IsNullOrWhiteSpace(k)), "Grpc:ApiKeys must not hold empty keys")
            .Validate(o => o.MaxTokenLifetime > TimeSpan.Zero, "Grpc:MaxTokenLifetime must be positive")
            .ValidateOnStart();
        var o = builder.Configuration.GetSection(GrpcOptions.Section).Get<GrpcOptions>() ?? new GrpcOptions();
        if (o.Port is <= 0 or > 65535)
            return builder;

        builder.Services.AddSingleton<ApiKeyInterceptor>();
        builder.Services.AddSingleton<DomainErrorInterceptor>();
        builder.Services.AddGrpc(g =>
        {
            // Outermost first: an unauthenticated call is refused before any service code runs.
            g.Interceptors.Add<ApiKeyInterceptor>();
            g.Interceptors.Add<DomainErrorInterceptor>();
        });
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks(h =>
        {
            // Probes may ask for "" (the whole server) or for one of our services by name.
            foreach (var service in ServiceNames)
                h.Services.Map(service, _ => true);
        }); // the checks themselves (the cluster check) are registered with the HTTP host: AddImHttp

        var address = builder.Configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>()?.Address ?? new GatewayOptions().Address;
        var clients = o.ClientCaPath is { Length: > 0 } ca ? ClientCertificates.Load(ca) : null;
        if (clients is not null && string.IsNullOrEmpty(o.TlsCertificatePath))
            throw new InvalidOperationException("Grpc:ClientCaPath (mutual TLS) needs Grpc:TlsCertificatePath");
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse(address), o.Port, l =>
        {
            l.Protocols = HttpProtocols.Http2;
            if (string.IsNullOrEmpty(o.TlsCertificatePath))
                return;
            l.UseHttps(X509CertificateLoader.LoadPkcs12FromFile(o.TlsCertificatePath, o.TlsCertificatePassword), https =>
            {
                if (clients is null)
                    return;
                // Allowed, not required: callers without a certificate can still use an API key.
                https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                https.ClientCertificateValidation = (certificate, _, _) => clients.IsTrusted(certificate);
            });
        }));
        return builder;
    }

    /// <summary>Maps the services added by <see cref="AddImGrpc"/>, and answers them on the gRPC port only.</summary>
    public static WebApplication MapImGrpc(this WebApplication app)
    {
        var o = app.Services.GetRequiredService<IOptions<GrpcOptions>>().Value;
        if (o.Port <= 0)
            return app;

        // Endpoints are routed on every Kestrel listener; the client-facing HTTP port must never serve this API.
        var port = o.Port;
        app.Use((context, next) =>
        {
            if (context.Connection.LocalPort != port && context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            return next(context);
        });

        app.MapGrpcService<UsersService>();
        app.MapGrpcService<ConversationsService>();
        app.MapGrpcService<MessagesService>();
        app.MapGrpcService<PresenceService>();
        app.MapGrpcService<EventsService>();
        app.MapGrpcHealthChecksService();
        if (o.Reflection)
            app.MapGrpcReflectionService();

        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(GrpcHostingExtensions).FullName!);
        if (o.ApiKeys.Count == 0)
            log.LogWarning("The gRPC API on port {Port} has no API keys (Grpc:ApiKeys): every call but health and reflection is refused", port);
        else
            log.LogInformation("gRPC API on port {Port} with {KeyCount} API key(s)", port, o.ApiKeys.Count);
        return app;
    }

    private static readonly string[] ServiceNames =
    [
        Users.Descriptor.FullName, Conversations.Descriptor.FullName, Messages.Descriptor.FullName,
        Presence.Descriptor.FullName, Events.Descriptor.FullName,
    ];
}
