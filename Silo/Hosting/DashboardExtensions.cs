using System.Security.Cryptography;
using System.Text;
using Orleans.Dashboard;

namespace ImOrleans.Silo.Hosting;

public static class DashboardExtensions
{
    /// <summary>Reads and checks the dashboard settings: enabled outside Development without a password stops the
    /// process at start, naming the key.</summary>
    public static ImDashboardOptions DashboardSettings(this WebApplicationBuilder builder)
    {
        var o = builder.Configuration.GetSection(ImDashboardOptions.Section).Get<ImDashboardOptions>() ?? new ImDashboardOptions();
        if (o.Enabled && string.IsNullOrEmpty(o.Password) && !builder.Environment.IsDevelopment())
            throw new InvalidOperationException("Dashboard:Password is required to serve the dashboard outside Development");
        return o;
    }

    /// <summary>The dashboard under its path, behind HTTP Basic authentication when a password is set.</summary>
    public static WebApplication MapImDashboard(this WebApplication app)
    {
        var o = app.Configuration.GetSection(ImDashboardOptions.Section).Get<ImDashboardOptions>() ?? new ImDashboardOptions();
        if (!o.Enabled)
            return app;
        if (!string.IsNullOrEmpty(o.Password))
        {
            var expected = Encoding.UTF8.GetBytes($"{o.Username}:{o.Password}");
            // A middleware, not an endpoint filter: it covers every endpoint under the path, static files included.
            app.UseWhen(c => c.Request.Path.StartsWithSegments(o.Path), branch => branch.Use((context, next) =>
            {
                if (IsAuthorized(context.Request.Headers.Authorization.ToString(), expected))
                    return next(context);
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"ImOrleans dashboard\"";
                return Task.CompletedTask;
            }));
        }
        app.MapOrleansDashboard(o.Path);
        return app;
    }

    private static bool IsAuthorized(string header, byte[] expected)
    {
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            return false;
        try
        {
            return CryptographicOperations.FixedTimeEquals(Convert.FromBase64String(header[6..].Trim()), expected);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
