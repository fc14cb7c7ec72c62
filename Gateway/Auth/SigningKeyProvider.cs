using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace ImOrleans.Gateway.Auth;

/// <summary>The HMAC key for tokens this gateway issues: configured, or created once in a file.</summary>
public sealed class SigningKeyProvider(IOptions<AuthOptions> options, ILogger<SigningKeyProvider> log)
{
    private readonly Lazy<SymmetricSecurityKey> _key = new(() => Load(options.Value, log));

    public SymmetricSecurityKey Key => _key.Value;

    private static SymmetricSecurityKey Load(AuthOptions o, ILogger log)
    {
        byte[] bytes;
        if (!string.IsNullOrWhiteSpace(o.SigningKey))
        {
            bytes = Convert.FromBase64String(o.SigningKey);
        }
        else if (File.Exists(o.SigningKeyFile))
        {
            bytes = Convert.FromBase64String(File.ReadAllText(o.SigningKeyFile).Trim());
        }
        else
        {
            bytes = RandomNumberGenerator.GetBytes(32);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(o.SigningKeyFile))!);
            File.WriteAllText(o.SigningKeyFile, Convert.ToBase64String(bytes));
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(o.SigningKeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            log.LogWarning("Created a token signing key in {File}; set Auth:SigningKey when running more than one gateway", Path.GetFullPath(o.SigningKeyFile));
        }
        if (bytes.Length < 32)
            throw new InvalidOperationException("Auth:SigningKey must be at least 32 bytes (base64)");
        return new SymmetricSecurityKey(bytes) { KeyId = "imorleans-1" };
    }
}
