using System.Net.Http.Headers;
using ImOrleans.Gateway.Auth;
using ImOrleans.Gateway.Mqtt;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace ImOrleans.Gateway.Attachments;

/// <summary><c>POST /v1/attachments?name=…</c> (the raw bytes, with their Content-Type) and <c>GET /v1/attachments/{id}</c>,
/// both with <c>Authorization: Bearer &lt;access token&gt;</c>.</summary>
public static class AttachmentEndpoints
{
    public static WebApplication MapAttachmentEndpoints(this WebApplication app)
    {
        app.MapPost("/v1/attachments", UploadAsync).DisableAntiforgery();
        app.MapGet("/v1/attachments/{id}", DownloadAsync);
        return app;
    }

    private static async Task<IResult> UploadAsync(HttpContext context, IAttachmentStore store, TokenService tokens, IGrainFactory grains,
        IOptions<AttachmentOptions> options, TimeProvider time, ILoggerFactory logs)
    {
        var o = options.Value;
        if (await UserOfAsync(context, tokens, grains) is not { } user)
            return Unauthorized(context);
        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var media) || media.MediaType is not { } type || !o.Allows(type))
        {
            return Error(StatusCodes.Status415UnsupportedMediaType, "unsupported_type",
                $"the Content-Type must be one of: {string.Join(", ", o.AllowedTypes)}");
        }
        if (context.Request.ContentLength > o.MaxBytes)
            return TooLarge(o.MaxBytes);

        // Kestrel's own limit (30 MB) would cut off differently; this endpoint counts the bytes itself.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = null;
        var name = NameOf(context.Request.Query["name"].ToString());
        var id = AttachmentIds.New();
        try
        {
            var stored = await store.SaveAsync(id, user, name, type.ToLowerInvariant(), new UploadStream(context.Request.Body, o.MaxBytes),
                time.GetUtcNow(), context.RequestAborted);
            logs.CreateLogger("ImOrleans.Gateway.Attachments").LogInformation("Attachment {Attachment} ({Size} bytes, {Type}) uploaded by {User}", id, stored.Info.Size, stored.Info.Type, user);
            return Results.Json(Wire.Attachment(stored.Info), Wire.Json, statusCode: StatusCodes.Status201Created);
        }
        catch (AttachmentTooLargeException)
        {
            return TooLarge(o.MaxBytes);
        }
    }

    // 404 both for an id that does not exist and for one the caller may not see: which ids exist is not told.
    private static async Task<IResult> DownloadAsync(string id, HttpContext context, IAttachmentStore store, TokenService tokens, IGrainFactory grains)
    {
        if (await UserOfAsync(context, tokens, grains) is not { } user)
            return Unauthorized(context);
        if (!AttachmentIds.IsValid(id) || await store.GetAsync(id, context.RequestAborted) is not { } stored
            || !await MayReadAsync(user, stored, grains))
            return Error(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"no attachment '{id}' in a conversation of yours");

        var response = context.Response;
        response.ContentType = stored.Info.Type;
        response.ContentLength = stored.Info.Size;
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = stored.Info.Name }.ToString();
        // Served bytes are the uploader's: a browser must not guess a more dangerous type, nor run them on this origin.
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy = "sandbox";
        response.Headers.CacheControl = "private, max-age=31536000, immutable";
        await store.CopyToAsync(id, response.Body, context.RequestAborted);
        return Results.Empty;
    }

    /// <summary>The uploader, or a member of a conversation one of whose messages still names the attachment (a message
    /// deleted for everyone names nothing).</summary>
    private static async Task<bool> MayReadAsync(string user, StoredAttachment stored, IGrainFactory grains)
    {
        if (stored.Uploader == user)
            return true;
        foreach (var conversation in stored.Conversations)
        {
            if (await grains.Ref<IConversationGrain>(conversation).MayReadAttachmentAsync(user, stored.Info.Id))
                return true;
        }
        return false;
    }

    /// <summary>The user of the request's Bearer token, if the token is valid and the account still active (a token
    /// outlives a disabling by up to its lifetime; uploads and downloads alike must not).</summary>
    private static async Task<string?> UserOfAsync(HttpContext context, TokenService tokens, IGrainFactory grains)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var user = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header[7..].Trim() is { Length: > 0 } token
            ? await tokens.ValidateAccessTokenAsync(token)
            : null;
        return user is not null && await grains.Ref<IUserGrain>(user).IsActiveAsync() ? user : null;
    }

    private static string NameOf(string name)
    {
        // Only the last path segment, without control characters, so it is safe in a header and on a client's disk.
        name = new string(Path.GetFileName(name.Replace('\\', '/')).Where(c => !char.IsControl(c)).ToArray()).Trim();
        return name.Length == 0 ? "attachment" : name[..Math.Min(name.Length, AttachmentOptions.MaxNameLength)];
    }

    private static IResult Unauthorized(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return Error(StatusCodes.Status401Unauthorized, "unauthorized", "an access token is required (Authorization: Bearer …)");
    }

    private static IResult TooLarge(long max) =>
        Error(StatusCodes.Status413PayloadTooLarge, ErrorCodes.LimitExceeded, $"an attachment is limited to {max} bytes");

    private static IResult Error(int status, string code, string message) =>
        Results.Json(new { error = code, message }, statusCode: status);
}
