using ImOrleans.Gateway.Attachments;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Attachments;

/// <summary>What every attachment store must do; run against the disk store and a real PostgreSQL server.</summary>
public abstract class AttachmentStoreContract
{
    protected abstract IAttachmentStore Store { get; }

    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private Task<StoredAttachment> SaveAsync(byte[] content, string type = "application/octet-stream", long max = 10_000_000, DateTimeOffset? at = null) =>
        Store.SaveAsync(AttachmentIds.New(), "alice", "file.bin", type, new UploadStream(new MemoryStream(content), max), at ?? Now);

    [TestMethod]
    public async Task SavedBytesReadBackWholeAcrossChunkBoundaries()
    {
        var content = new byte[600_000]; // more than two of the PostgreSQL store's 256 KiB chunks
        new Random(7).NextBytes(content);

        var saved = await SaveAsync(content);
        var got = await Store.GetAsync(saved.Info.Id);
        using var copy = new MemoryStream();
        await Store.CopyToAsync(saved.Info.Id, copy);

        Assert.AreEqual(content.Length, saved.Info.Size);
        Assert.AreEqual(saved.Info, got!.Info);
        Assert.AreEqual("alice", got.Uploader);
        Assert.AreEqual(Now, got.CreatedAt);
        Assert.IsEmpty(got.Conversations);
        CollectionAssert.AreEqual(content, copy.ToArray());
    }

    [TestMethod]
    public async Task ImageDimensionsAreKept()
    {
        var saved = await SaveAsync(AttachmentTests.Png(800, 600), "image/png");
        var got = await Store.GetAsync(saved.Info.Id);

        Assert.AreEqual(800, got!.Info.Width);
        Assert.AreEqual(600, got.Info.Height);
    }

    [TestMethod]
    public async Task AnUploadPastTheLimitLeavesNothingBehind()
    {
        var id = AttachmentIds.New();
        await Assert.ThrowsAsync<AttachmentTooLargeException>(() =>
            Store.SaveAsync(id, "alice", "big", "text/plain", new UploadStream(new MemoryStream(new byte[300_000]), 299_999), Now));

        Assert.IsNull(await Store.GetAsync(id));
    }

    [TestMethod]
    public async Task LinksAreKeptOnceEachAndLinkedUploadsAreNotUnreferenced()
    {
        var linked = await SaveAsync([1], at: Now.AddHours(-2));
        var orphan = await SaveAsync([2], at: Now.AddHours(-2));
        var young = await SaveAsync([3], at: Now);

        await Store.LinkAsync(linked.Info.Id, "g-one");
        await Store.LinkAsync(linked.Info.Id, "g-one");
        await Store.LinkAsync(linked.Info.Id, "g-two");
        var unreferenced = await Store.ListUnreferencedAsync(Now.AddHours(-1), 10_000);

        CollectionAssert.AreEqual(new[] { "g-one", "g-two" }, (await Store.GetAsync(linked.Info.Id))!.Conversations.ToArray());
        CollectionAssert.Contains(unreferenced.ToList(), orphan.Info.Id);
        CollectionAssert.DoesNotContain(unreferenced.ToList(), linked.Info.Id);
        CollectionAssert.DoesNotContain(unreferenced.ToList(), young.Info.Id, "younger than the cut-off");
    }

    [TestMethod]
    public async Task DeleteRemovesTheAttachmentAndIsIdempotent()
    {
        var saved = await SaveAsync([1, 2, 3]);

        await Store.DeleteAsync(saved.Info.Id);
        await Store.DeleteAsync(saved.Info.Id);

        Assert.IsNull(await Store.GetAsync(saved.Info.Id));
    }
}

[TestClass]
public sealed class DiskAttachmentStoreTests : AttachmentStoreContract
{
    private static DiskAttachmentStore _store = null!;
    protected override IAttachmentStore Store => _store;

    [ClassInitialize]
    public static async Task Init(TestContext _)
    {
        _store = new DiskAttachmentStore(TempDirectory.Create("att"));
        await _store.InitializeAsync();
    }
}

[TestClass]
public sealed class PostgresAttachmentStoreTests : AttachmentStoreContract
{
    private static PostgresAttachmentStore _store = null!;
    protected override IAttachmentStore Store => _store;

    [ClassInitialize]
    public static async Task Init(TestContext _)
    {
        var cs = await Infrastructure.PostgresServer.CreateDatabaseAsync("attachments");
        _store = new PostgresAttachmentStore(cs);
        await _store.InitializeAsync();
        // A second gateway starting on the same database finds the schema there.
        await using var second = new PostgresAttachmentStore(cs);
        await second.InitializeAsync();
    }

    [ClassCleanup]
    public static async Task Cleanup()
    {
        if (_store is not null)
            await _store.DisposeAsync();
    }
}

/// <summary>Dimensions from the headers of the four image formats, and nothing from anything else.</summary>
[TestClass]
public sealed class ImageSizeTests
{
    [TestMethod]
    public void ReadsPngGifWebPAndJpegHeaders()
    {
        Assert.AreEqual((640, 480), ImageSize.Read(AttachmentTests.Png(640, 480)));
        Assert.AreEqual((12, 34), ImageSize.Read(AttachmentTests.Gif(12, 34)));
        Assert.AreEqual((300, 200), ImageSize.Read(WebPLossy(300, 200)));
        Assert.AreEqual((1000, 700), ImageSize.Read(WebPExtended(1000, 700)));
        Assert.AreEqual((77, 55), ImageSize.Read(WebPLossless(77, 55)));
        Assert.AreEqual((1920, 1080), ImageSize.Read(Jpeg(1920, 1080)));
    }

    [TestMethod]
    public void GivesNothingForOtherOrCutShortBytes()
    {
        Assert.IsNull(ImageSize.Read("hello world, not an image"u8));
        Assert.IsNull(ImageSize.Read(AttachmentTests.Png(1, 1).AsSpan(0, 20)));
        Assert.IsNull(ImageSize.Read(Jpeg(10, 10).AsSpan(0, 12)));
    }

    private static byte[] Riff(string chunk, int size)
    {
        var b = new byte[size];
        "RIFF"u8.CopyTo(b);
        "WEBP"u8.CopyTo(b.AsSpan(8));
        System.Text.Encoding.ASCII.GetBytes(chunk).CopyTo(b, 12);
        return b;
    }

    private static byte[] WebPLossy(int w, int h)
    {
        var b = Riff("VP8 ", 30);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(26), (ushort)w);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(28), (ushort)h);
        return b;
    }

    private static byte[] WebPExtended(int w, int h)
    {
        var b = Riff("VP8X", 30);
        b[24] = (byte)(w - 1); b[25] = (byte)((w - 1) >> 8); b[26] = (byte)((w - 1) >> 16);
        b[27] = (byte)(h - 1); b[28] = (byte)((h - 1) >> 8); b[29] = (byte)((h - 1) >> 16);
        return b;
    }

    private static byte[] WebPLossless(int w, int h)
    {
        var b = Riff("VP8L", 30);
        b[20] = 0x2F;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(21), (uint)((w - 1) | ((h - 1) << 14)));
        return b;
    }

    // SOI, an APP0 segment to skip, then SOF0 with height and width.
    private static byte[] Jpeg(int w, int h) =>
    [
        0xFF, 0xD8,
        0xFF, 0xE0, 0x00, 0x06, (byte)'J', (byte)'F', (byte)'I', (byte)'F',
        0xFF, 0xC0, 0x00, 0x11, 0x08, (byte)(h >> 8), (byte)h, (byte)(w >> 8), (byte)w, 0x03,
    ];
}
