using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ImOrleans.Tests.Push;

/// <summary>A compact JWS taken apart, its signature checked with the public key it should match.</summary>
public sealed record TestJwt(JsonObject Header, JsonObject Claims, byte[] SignedPart, byte[] Signature)
{
    public static TestJwt Parse(string jwt)
    {
        var parts = jwt.Split('.');
        Assert.HasCount(3, parts, $"a compact JWS: {jwt}");
        return new TestJwt(JsonNode.Parse(FromBase64Url(parts[0]))!.AsObject(), JsonNode.Parse(FromBase64Url(parts[1]))!.AsObject(),
            Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), FromBase64Url(parts[2]));
    }

    public bool VerifiedBy(RSA key) => key.VerifyData(SignedPart, Signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    /// <summary>ES256 as JWS has it: r‖s, 64 bytes.</summary>
    public bool VerifiedBy(ECDsa key) => Signature.Length == 64
        && key.VerifyData(SignedPart, Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public static byte[] FromBase64Url(string s) =>
        Convert.FromBase64String(s.Replace('-', '+').Replace('_', '/').PadRight((s.Length + 3) / 4 * 4, '='));
}
