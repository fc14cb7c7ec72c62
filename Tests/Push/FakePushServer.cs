using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ImOrleans.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace ImOrleans.Tests.Push;

/// <summary>A stand-in push service: Kestrel on a free loopback port (HTTP/1.1, or HTTP/2 over TLS with a throwaway
/// certificate, as APNs), recording every request and answering with <see cref="Respond"/>.</summary>
public sealed class FakePushServer : IAsyncDisposable
{
    public sealed record Request(string Method, string Path, string Protocol, IReadOnlyDictionary<string, string> Headers,
        string Body, byte[] RawBody, DateTimeOffset At)
    {
        public string Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : "";
    }

    /// <summary>An answer; with <see cref="Delay"/> the server holds it that long first (a slow or hanging service).</summary>
    public sealed record Response(int Status, string Body = "{}", IReadOnlyDictionary<string, string>? Headers = null, TimeSpan? Delay = null);

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Request> _requests = new();

    /// <summary>How each request is answered; by default 200 with an empty JSON object.</summary>
    public Func<Request, Response> Respond { get; set; } = _ => new(200);

    public string BaseUrl { get; }

    public IReadOnlyList<Request> Requests => [.. _requests];

    public IReadOnlyList<Request> To(string pathPart) => Requests.Where(r => r.Path.Contains(pathPart, StringComparison.Ordinal)).ToList();

    private FakePushServer(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public static async Task<FakePushServer> StartAsync(bool http2Tls = false)
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l =>
        {
            l.Protocols = http2Tls ? HttpProtocols.Http2 : HttpProtocols.Http1;
            if (http2Tls)
                l.UseHttps(Certificate());
        }));
        var app = builder.Build();
        var server = new FakePushServer(app, $"{(http2Tls ? "https" : "http")}://127.0.0.1:{port}");
        app.Run(server.HandleAsync);
        await app.StartAsync();
        return server;
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        using var buffer = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(buffer);
        var raw = buffer.ToArray();
        var request = new Request(ctx.Request.Method, ctx.Request.Path + ctx.Request.QueryString, ctx.Request.Protocol,
            ctx.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
            System.Text.Encoding.UTF8.GetString(raw), raw, DateTimeOffset.UtcNow);
        _requests.Enqueue(request);
        var response = Respond(request);
        if (response.Delay is { } delay)
            await Task.Delay(delay, ctx.RequestAborted);
        ctx.Response.StatusCode = response.Status;
        foreach (var (name, value) in response.Headers ?? new Dictionary<string, string>())
            ctx.Response.Headers[name] = value;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(response.Body);
    }

    private static X509Certificate2 Certificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
