using ImOrleans.Grains.Push;
using ImOrleans.Models;

namespace ImOrleans.Tests.Push;

/// <summary>The rules a registration must pass and the do-not-disturb window, without a server.</summary>
[TestClass]
public sealed class PushPolicyTests
{
    private const string P256 = "BOVFfCoBB_1Q5Bc1dGSEYDxhuByFJHOFOPGhKnwiJ1bDXsJTl0wLM5EYkKZWq9mxdPAmqNqPczeMTIsgAbEzRUo";
    private const string Auth = "wSfP9_6GdP2YudSRmm7CaQ";

    [TestMethod]
    [DataRow("fcm", "dGVzdA:APA91bH-abc_123")]
    [DataRow("apns", "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90")]
    [DataRow("hms", "IQAAAACy0kYkAACuzR5XoP7QjlL7aWm")]
    [DataRow("xiaomi", "abc/def+ghi=")]
    [DataRow("webhook", "any!printable~token")]
    [DataRow("webpush", $$$"""{"endpoint":"https://fcm.googleapis.com/fcm/send/x","keys":{"p256dh":"{{{P256}}}","auth":"{{{Auth}}}"}}""")]
    public void WellFormedTokensAreAccepted(string provider, string token) => PushTargetRules.Require(new PushTarget(provider, token));

    [TestMethod]
    [DataRow("gcm", "token", "unknown provider")]
    [DataRow("fcm", " ", "blank")]
    [DataRow("xiaomi", "a,b", "a comma would make it a list")]
    [DataRow("fcm", "a b", "a space")]
    [DataRow("apns", "a1b2", "too short")]
    [DataRow("apns", "zz2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1", "not hex")]
    [DataRow("webhook", "tab\there", "a control character")]
    [DataRow("webpush", "https://fcm.googleapis.com/fcm/send/x", "not the subscription JSON")]
    [DataRow("webpush", $$$"""{"endpoint":"ftp://x/y","keys":{"p256dh":"{{{P256}}}","auth":"{{{Auth}}}"}}""", "not an http(s) endpoint")]
    [DataRow("webpush", $$$"""{"endpoint":"https://x/y","keys":{"p256dh":"AAAA","auth":"{{{Auth}}}"}}""", "p256dh is not a P-256 point")]
    [DataRow("webpush", $$$"""{"endpoint":"https://x/y","keys":{"p256dh":"{{{P256}}}"}}""", "no auth secret")]
    public void MalformedTokensAreBadRequests(string provider, string token, string why)
    {
        var ex = Assert.ThrowsExactly<ImException>(() => PushTargetRules.Require(new PushTarget(provider, token)), why);
        Assert.AreEqual(ErrorCodes.BadRequest, ex.Code, why);
    }

    [TestMethod]
    public void AnOverlongTokenIsRefused() =>
        Assert.ThrowsExactly<ImException>(() => PushTargetRules.Require(new PushTarget("fcm", new string('a', PushTargetRules.MaxTokenLength + 1))));

    [TestMethod]
    [DataRow(22 * 60, 7 * 60, "23:30", true)]
    [DataRow(22 * 60, 7 * 60, "06:59", true)]
    [DataRow(22 * 60, 7 * 60, "07:00", false)]
    [DataRow(22 * 60, 7 * 60, "12:00", false)]
    [DataRow(9 * 60, 17 * 60, "12:00", true)]
    [DataRow(9 * 60, 17 * 60, "17:00", false)]
    [DataRow(8 * 60, 8 * 60, "08:00", false)]
    public void TheDoNotDisturbWindowMaySpanMidnight(int start, int end, string utc, bool covered)
    {
        var now = DateTimeOffset.Parse($"2030-06-01T{utc}:00Z", System.Globalization.CultureInfo.InvariantCulture);
        Assert.AreEqual(covered, DoNotDisturb.Covers(new PushSettings(DndStart: start, DndEnd: end), now));
    }

    [TestMethod]
    public void TheWindowIsInTheUsersTimeZone()
    {
        // 21:30 UTC is 23:30 in Berlin in summer: inside 22:00-07:00 there, outside it in UTC.
        var now = DateTimeOffset.Parse("2030-06-01T21:30:00Z", System.Globalization.CultureInfo.InvariantCulture);
        Assert.IsTrue(DoNotDisturb.Covers(new PushSettings(DndStart: 22 * 60, DndEnd: 7 * 60, TimeZone: "Europe/Berlin"), now));
        Assert.IsFalse(DoNotDisturb.Covers(new PushSettings(DndStart: 22 * 60, DndEnd: 7 * 60), now));
    }
}
