using ImOrleans.Gateway.Attachments;
using ImOrleans.Grains;
using ImOrleans.Grains.Storage;
using ImOrleans.Models;
using ImOrleans.Silo.Hosting;
using ImOrleans.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImOrleans.Tests.Retention;

/// <summary>One retention run on a real store at a chosen "now": old messages and their attachments go, newer ones stay.</summary>
public abstract class RetentionSweepContract
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    protected abstract IMessageStore Messages { get; }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static MessageRecord Msg(string conv, long seq, double daysAgo, string body = "text", params AttachmentInfo[] files) =>
        new(conv, seq, $"c{seq}", "alice", "phone", body, Now.AddDays(-daysAgo), Attachments: files.Length > 0 ? files : null);

    private async Task<(RetentionRun Run, DiskAttachmentStore Files)> SweepAsync(int defaultDays, DiskAttachmentStore? files = null)
    {
        files ??= new DiskAttachmentStore(TempDirectory.Create("ret"));
        await files.InitializeAsync();
        var limits = Microsoft.Extensions.Options.Options.Create(new ChatLimits { RetentionDays = defaultDays });
        var sweep = new RetentionSweep(Messages, files, limits, new FixedTime(Now), NullLogger<RetentionSweep>.Instance);
        return (await sweep.SweepAsync(CancellationToken.None), files);
    }

    private static async Task<AttachmentInfo> UploadAsync(DiskAttachmentStore files, string conv)
    {
        var stored = await files.SaveAsync(AttachmentIds.New(), "alice", "old.png", "image/png", new UploadStream(new MemoryStream([1, 2, 3]), 100), Now.AddDays(-30));
        await files.LinkAsync(stored.Info.Id, conv);
        return stored.Info;
    }

    [TestMethod]
    public async Task ARunDeletesMessagesOlderThanTheRetentionWithTheirAttachmentsAndKeepsNewerOnes()
    {
        var conv = "g-" + Guid.NewGuid().ToString("N");
        var files = new DiskAttachmentStore(TempDirectory.Create("ret"));
        await files.InitializeAsync();
        var old = await UploadAsync(files, conv);
        var fresh = await UploadAsync(files, conv);
        await Messages.AppendAsync(Msg(conv, 1, 10, "old", old));
        await Messages.AppendAsync(Msg(conv, 2, 5.01));
        await Messages.AppendAsync(Msg(conv, 3, 4.99, "just inside", fresh));
        await Messages.AppendAsync(Msg(conv, 4, 0));

        await SweepAsync(defaultDays: 5, files);

        var left = await Messages.ReadAfterAsync(conv, 0, 10);
        CollectionAssert.AreEqual(new long[] { 3, 4 }, left.Select(m => m.Seq).ToArray());
        Assert.AreEqual("just inside", left[0].Body, "a newer message is untouched");
        Assert.IsNull(await files.GetAsync(old.Id), "the attachment of a deleted message is deleted");
        Assert.IsNotNull(await files.GetAsync(fresh.Id), "the attachment of a kept message stays");
    }

    [TestMethod]
    public async Task TheNewestMessageIsEmptiedNotDeletedSoTheNumberingGoesOn()
    {
        var conv = "g-" + Guid.NewGuid().ToString("N");
        await Messages.AppendAsync(Msg(conv, 1, 30));
        await Messages.AppendAsync(Msg(conv, 2, 20, "last words"));

        await SweepAsync(defaultDays: 7);
        var again = (await SweepAsync(defaultDays: 7)).Run;

        var left = await Messages.ReadAfterAsync(conv, 0, 10);
        Assert.AreEqual(2, left.Single().Seq);
        Assert.AreEqual("", left[0].Body, "its body is gone");
        Assert.AreEqual(2, await Messages.GetLastSeqAsync(conv));
        Assert.AreEqual(0, again.Messages, "an emptied message is not found again");
    }

    [TestMethod]
    public async Task AConversationsOwnRetentionOverridesTheServersAndZeroKeepsForever()
    {
        var (longer, shorter, plain) = ("g-" + Guid.NewGuid().ToString("N"), "g-" + Guid.NewGuid().ToString("N"), "g-" + Guid.NewGuid().ToString("N"));
        foreach (var conv in new[] { longer, shorter, plain })
        {
            await Messages.AppendAsync(Msg(conv, 1, 10));
            await Messages.AppendAsync(Msg(conv, 2, 3));
            await Messages.AppendAsync(Msg(conv, 3, 0));
        }
        await Messages.SetRetentionAsync(longer, 30);
        await Messages.SetRetentionAsync(shorter, 1);

        await SweepAsync(defaultDays: 0);

        Assert.HasCount(3, await Messages.ReadAfterAsync(longer, 0, 10), "30 days keeps a 10-day-old message");
        Assert.HasCount(3, await Messages.ReadAfterAsync(plain, 0, 10), "0 server-wide keeps everything");
        CollectionAssert.AreEqual(new long[] { 3 }, (await Messages.ReadAfterAsync(shorter, 0, 10)).Select(m => m.Seq).ToArray());

        await Messages.SetRetentionAsync(longer, null);
        await SweepAsync(defaultDays: 5);
        CollectionAssert.AreEqual(new long[] { 2, 3 }, (await Messages.ReadAfterAsync(longer, 0, 10)).Select(m => m.Seq).ToArray(),
            "cleared: the server's 5 days apply again");
    }

    [TestMethod]
    public async Task AnAttachmentAnotherMessageStillNamesIsKept()
    {
        var conv = "g-" + Guid.NewGuid().ToString("N");
        var files = new DiskAttachmentStore(TempDirectory.Create("ret"));
        await files.InitializeAsync();
        var shared = await UploadAsync(files, conv);
        await Messages.AppendAsync(Msg(conv, 1, 10, "first", shared));
        await Messages.AppendAsync(Msg(conv, 2, 1, "sent again", shared));

        await SweepAsync(defaultDays: 5, files);

        Assert.IsNotNull(await files.GetAsync(shared.Id));
    }
}

[TestClass]
public sealed class SqliteRetentionSweepTests : RetentionSweepContract
{
    private static SqliteMessageStore _store = null!;
    protected override IMessageStore Messages => _store;

    [ClassInitialize]
    public static async Task Init(TestContext _)
    {
        _store = new SqliteMessageStore(Path.Combine(TempDirectory.Create("ret"), "messages.db"), 64,
            NullLogger<SqliteMessageStore>.Instance);
        await _store.InitializeAsync();
    }

    [ClassCleanup]
    public static async Task Cleanup() => await _store.DisposeAsync();
}

[TestClass]
public sealed class PostgresRetentionSweepTests : RetentionSweepContract
{
    private static PostgresMessageStore _store = null!;
    protected override IMessageStore Messages => _store;

    [ClassInitialize]
    public static async Task Init(TestContext _)
    {
        _store = new PostgresMessageStore(await Infrastructure.PostgresServer.CreateDatabaseAsync("retention"), 64,
            NullLogger<PostgresMessageStore>.Instance);
        await _store.InitializeAsync();
    }

    [ClassCleanup]
    public static async Task Cleanup() => await _store.DisposeAsync();
}
