using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ImOrleans.Grains.Push;

/// <summary>Compact JSON Web Signatures, the two kinds push services ask for: RS256 (Google service accounts) and
/// ES256 (APNs provider tokens). ES256 signatures are the raw r‖s form JWS wants (IEEE P1363), not DER.</summary>
internal static class Jws
{
    public static string Rs256(JsonObject header, JsonObject claims, RSA key) =>
        Sign(header, claims, data => key.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

    public static string Es256(JsonObject header, JsonObject claims, ECDsa key) =>
        Sign(header, claims, data => key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));

    private static string Sign(JsonObject header, JsonObject claims, Func<byte[], byte[]> sign)
    {
        var input = $"{Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString()))}.{Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()))}";
        return $"{input}.{Base64Url(sign(Encoding.ASCII.GetBytes(input)))}";
    }

    public static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Reads a PEM key from <paramref name="pem"/> or, when that is empty, from the file <paramref name="path"/>.</summary>
    public static string Pem(string? pem, string? path, string what) =>
        !string.IsNullOrWhiteSpace(pem) ? pem
        : !string.IsNullOrWhiteSpace(path) ? File.ReadAllText(path)
        : throw new InvalidOperationException($"{what} is not configured");
}
