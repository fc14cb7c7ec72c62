using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ImOrleans.Gateway.Auth;

public static class AuthHostingExtensions
{
    /// <summary>The rate limiter policy of <c>POST /v1/auth/register</c>: <see cref="AuthOptions.RegistrationsPerMinute"/> per source address.</summary>
    public const string RegistrationPolicy = "registration";

    /// <summary>Tokens, password checks and their limits, and the registration rate limit.</summary>
    public static IServiceCollection AddImAuth(this IServiceCollection services)
    {
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section)
            .Validate(a => a.RegistrationsPerMinute > 0 && a.FailedLoginsPerMinute > 0,
                "Auth:RegistrationsPerMinute and Auth:FailedLoginsPerMinute must be positive")
            // Each gateway would otherwise make its own key, and tokens from one would be refused by the others.
            .Validate<IConfiguration>((a, cfg) => !Hosting.HostingMode.IsCluster(cfg) || !string.IsNullOrWhiteSpace(a.SigningKey),
                "Auth:SigningKey is required in cluster mode (Storage:Provider=PostgreSQL): all gateways must share it")
            .Validate(a => a.JwksFetchTimeout > TimeSpan.Zero && a.JwksRetryInterval > TimeSpan.Zero && a.JwksRefreshInterval > TimeSpan.Zero,
                "Auth:JwksFetchTimeout, Auth:JwksRetryInterval and Auth:JwksRefreshInterval must be positive")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        // Without this a fetch from an issuer that does not answer would hold logins for HttpClient's 100 s.
        services.AddHttpClient(ExternalKeys.HttpClientName)
            .ConfigureHttpClient((sp, client) => client.Timeout = sp.GetRequiredService<IOptions<AuthOptions>>().Value.JwksFetchTimeout);
        services.AddSingleton<SigningKeyProvider>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<ExternalKeys>();
        services.AddSingleton<TokenService>();

        // Each registration costs a slow hash and makes an account: limited per source address.
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(RegistrationPolicy, context =>
            {
                var perMinute = context.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.RegistrationsPerMinute;
                return RateLimitPartition.GetTokenBucketLimiter(SourceAddress.Of(context.Connection.RemoteIpAddress),
                    _ => LoginThrottle.PerMinute(perMinute));
            });
            limiter.OnRejected = async (rejected, ct) =>
            {
                var perMinute = rejected.HttpContext.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.RegistrationsPerMinute;
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1) / perMinute;
                var response = rejected.HttpContext.Response;
                response.StatusCode = StatusCodes.Status429TooManyRequests;
                response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await response.WriteAsJsonAsync(new
                {
                    error = ErrorCodes.RateLimited,
                    message = $"too many registrations from this address (at most {perMinute} a minute); retry later",
                }, ct);
            };
        });
        return services;
    }
}
