using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace ImOrleans.Gateway.Hosting;

/// <summary>Serves the browser chat client (<c>Gateway/WebClient</c>, embedded in the assembly) as static files.
/// It speaks only the public client protocol (MQTT over WebSocket at <c>/mqtt</c>, <c>/v1/auth</c>), so it needs
/// nothing from the server but these files.</summary>
public static class WebClientHosting
{
    /// <summary>Embedded resources are named after the root namespace and folder, with dots for slashes.</summary>
    private const string ResourceRoot = "ImOrleans.Gateway.WebClient";

    /// <summary>Scripts and styles from this origin only (no inline code, no eval), connections only back to it
    /// (CSP 3: <c>'self'</c> covers <c>ws:</c>/<c>wss:</c> of the same host), and never framed.</summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static WebApplicationBuilder AddImWebClient(this WebApplicationBuilder builder)
    {
        // A cluster is closed by default, like open registration: a deployment serves its own app at "/" unless told.
        var cluster = HostingMode.IsCluster(builder.Configuration);
        builder.Services.AddOptions<WebClientOptions>()
            .Configure(w => w.Enabled = !cluster)
            .BindConfiguration(WebClientOptions.Section)
            .Validate(w => IsValidPath(w.Path), "Gateway:WebClient:Path must start with '/' and hold only letters, digits and - _ . /")
            .ValidateOnStart();
        return builder;
    }

    public static WebApplication MapImWebClient(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<WebClientOptions>>().Value;
        if (!options.Enabled)
            return app;
        var files = new EmbeddedFileProvider(typeof(WebClientHosting).Assembly, ResourceRoot);
        var path = new PathString(options.Path.TrimEnd('/'));
        // "/chat" becomes "/chat/" (a redirect), so the page's relative URLs resolve under it.
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = path });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = path,
            ContentTypeProvider = ContentTypes(),
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                // Revalidated on every load (ETag), so a restarted server with a new client is picked up at once.
                headers.CacheControl = "no-cache";
            },
        });
        return app;
    }

    /// <summary>The usual types, with the charset said for the text ones (all UTF-8).</summary>
    private static FileExtensionContentTypeProvider ContentTypes()
    {
        var types = new FileExtensionContentTypeProvider();
        foreach (var (extension, type) in new[] { (".html", "text/html"), (".js", "text/javascript"), (".css", "text/css"), (".md", "text/markdown") })
            types.Mappings[extension] = type + "; charset=utf-8";
        return types;
    }

    private static bool IsValidPath(string? path) =>
        path is ['/', ..] && path.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/') && !path.Contains("//", StringComparison.Ordinal);
}
