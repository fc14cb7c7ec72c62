using ImOrleans.Gateway.Hosting;
using Microsoft.Extensions.Options;

namespace ImOrleans.Gateway.Auth;

/// <summary><c>POST /v1/auth/register</c> (JSON) and <c>POST /v1/auth/token</c> (OAuth 2.0, RFC 6749 form encoding).</summary>
public static class AuthEndpoints
{
    public sealed record RegisterRequest(string? User, string? Password);

    public static WebApplication MapAuthEndpoints(this WebApplication app)
    {
        app.UseRateLimiter();
        app.MapPost("/v1/auth/register", RegisterAsync).RequireRateLimiting(AuthHostingExtensions.RegistrationPolicy);
        app.MapPost("/v1/auth/token", TokenAsync).DisableAntiforgery();
        return app;
    }

    private static async Task<IResult> RegisterAsync(HttpRequest request, IGrainFactory grains, IOptions<GatewayOptions> options)
    {
        if (!options.Value.OpenRegistration)
            return Error(StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, "open registration is turned off");
        RegisterRequest? body;
        try
        {
            body = await request.ReadFromJsonAsync<RegisterRequest>();
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException)
        {
            return Error(StatusCodes.Status400BadRequest, ErrorCodes.BadPayload, "expected a JSON object {\"user\", \"password\"}");
        }
        if (body?.User is null || body.Password is null)
            return Error(StatusCodes.Status400BadRequest, ErrorCodes.BadPayload, "expected a JSON object {\"user\", \"password\"}");
        if (!Ids.IsValidUser(body.User))
            return Error(StatusCodes.Status400BadRequest, ErrorCodes.InvalidId, "user must be 1-64 characters of a-z 0-9 _ . -");
        try
        {
            await grains.Ref<IUserGrain>(body.User).CreateAsync(body.Password);
            return Results.Json(new { user = body.User }, statusCode: StatusCodes.Status201Created);
        }
        catch (ImException ex)
        {
            return Error(ex.Code == ErrorCodes.AlreadyExists ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest, ex.Code, ex.Message);
        }
    }

    private static async Task<IResult> TokenAsync(HttpRequest request, IGrainFactory grains, TokenService tokens, LoginThrottle throttle)
    {
        if (!request.HasFormContentType)
            return OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded");
        var form = await request.ReadFormAsync();
        string? user;
        switch (form["grant_type"].ToString())
        {
            case "password":
                user = form["username"].ToString();
                var password = form["password"].ToString();
                if (user.Length == 0 || password.Length == 0)
                    return OAuthError("invalid_request", "username and password are required");
                if (!Ids.IsValidUser(user))
                    return OAuthError("invalid_grant", "wrong username or password");
                var address = request.HttpContext.Connection.RemoteIpAddress;
                if (!throttle.TryAttempt(user, address))
                    return Results.Json(new { error = "slow_down", error_description = "too many password attempts; wait a minute" },
                        statusCode: StatusCodes.Status429TooManyRequests);
                if (!await grains.Ref<IUserGrain>(user).VerifyPasswordAsync(password))
                {
                    throttle.Failed(address);
                    return OAuthError("invalid_grant", "wrong username or password");
                }
                break;
            case "refresh_token":
                var refresh = form["refresh_token"].ToString();
                if (refresh.Length == 0)
                    return OAuthError("invalid_request", "refresh_token is required");
                user = await tokens.ValidateRefreshTokenAsync(refresh);
                if (user is null || !await grains.Ref<IUserGrain>(user).IsActiveAsync())
                    return OAuthError("invalid_grant", "the refresh token is invalid or expired");
                break;
            case "":
                return OAuthError("invalid_request", "grant_type is required");
            default:
                return OAuthError("unsupported_grant_type", "supported grant types: password, refresh_token");
        }

        var issued = tokens.Issue(user);
        // RFC 6749 §5.1: token responses must not be cached.
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        request.HttpContext.Response.Headers.Pragma = "no-cache";
        return Results.Json(new
        {
            access_token = issued.AccessToken,
            token_type = "Bearer",
            expires_in = issued.ExpiresIn,
            refresh_token = issued.RefreshToken,
        });
    }

    private static IResult OAuthError(string error, string description) =>
        Results.Json(new { error, error_description = description }, statusCode: StatusCodes.Status400BadRequest);

    private static IResult Error(int status, string code, string message) =>
        Results.Json(new { error = code, message }, statusCode: status);
}
