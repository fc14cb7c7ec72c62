using ImOrleans.Grains.Storage;
using ImOrleans.Models;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Storage;

/// <summary>The behaviour every message store must have; run against SQLite and a real PostgreSQL server.</summary>
public abstract class MessageStoreContract
{
    protected abstract IMessageStore Store { get; }

    protected static MessageRecord Msg(string conv, long seq, string body = "hi") =>
        new(conv, seq, $"c{seq}", "alice", "phone", body, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + seq));

    protected static string Conv() => "g-" + Guid.NewGuid().ToString("N");

    [TestMethod]
    public async Task AppendedMessagesReadBackInSeqOrderWithEveryField()
    {
        var conv = Conv();
        for (var i = 1; i <= 5; i++)
            await Store.AppendAsync(Msg(conv, i, $"body {i} ✓ \"quoted\""));

        var all = await Store.ReadAfterAsync(conv, 0, 100);

        CollectionAssert.AreEqual(new long[] { 1, 2, 3, 4, 5 }, all.Select(m => m.Seq).ToArray());
        Assert.AreEqual(Msg(conv, 3, "body 3 ✓ \"quoted\""), all[2]);
        Assert.AreEqual(5, await Store.GetLastSeqAsync(conv));
    }

    [TestMethod]
    public async Task LastSeqOfAnEmptyConversationIsZero() =>
        Assert.AreEqual(0, await Store.GetLastSeqAsync(Conv()));

    [TestMethod]
    public async Task PagesByKeyInBothDirections()
    {
        var conv = Conv();
        for (var i = 1; i <= 10; i++)
            await Store.AppendAsync(Msg(conv, i));

        var after = await Store.ReadAfterAsync(conv, 3, 4);
        var before = await Store.ReadBeforeAsync(conv, 8, 3);
        var newest = await Store.ReadBeforeAsync(conv, long.MaxValue, 2);

        CollectionAssert.AreEqual(new long[] { 4, 5, 6, 7 }, after.Select(m => m.Seq).ToArray());
        CollectionAssert.AreEqual(new long[] { 5, 6, 7 }, before.Select(m => m.Seq).ToArray(), "oldest first");
        CollectionAssert.AreEqual(new long[] { 9, 10 }, newest.Select(m => m.Seq).ToArray());
    }

    [TestMethod]
    public async Task ConversationsDoNotSeeEachOthersMessages()
    {
        var (a, b) = (Conv(), Conv());
        await Store.AppendAsync(Msg(a, 1));
        await Store.AppendAsync(Msg(b, 1));
        await Store.AppendAsync(Msg(b, 2));

        Assert.HasCount(1, await Store.ReadAfterAsync(a, 0, 10));
        Assert.AreEqual(2, await Store.GetLastSeqAsync(b));
    }

    [TestMethod]
    public async Task DuplicateSeqIsRefusedAndDoesNotFailItsNeighbours()
    {
        var conv = Conv();
        await Store.AppendAsync(Msg(conv, 1, "original"));

        // Issued together so they land in one group-commit batch where possible.
        var dup = Store.AppendAsync(Msg(conv, 1, "impostor"));
        var next = Store.AppendAsync(Msg(conv, 2));
        await Assert.ThrowsAsync<Exception>(async () => await dup, "an existing (conversation, seq) must not be overwritten");
        await next;

        var all = await Store.ReadAfterAsync(conv, 0, 10);
        Assert.AreEqual("original", all[0].Body);
        Assert.HasCount(2, all);
    }

    [TestMethod]
    public async Task AnAppendOfSeveralMessagesCommitsAllOrNone()
    {
        var (conv, other) = (Conv(), Conv());
        await Store.AppendAsync(Msg(conv, 2, "original"));

        // Seqs 1-3 as one unit, seq 2 taken: none may land, or the conversation would have a gap at 2's neighbours.
        var clashing = Store.AppendAllAsync([Msg(conv, 1), Msg(conv, 2, "impostor"), Msg(conv, 3)]);
        var neighbour = Store.AppendAllAsync([Msg(other, 1), Msg(other, 2)]);
        await Assert.ThrowsAsync<Exception>(async () => await clashing);
        await neighbour;

        var stored = await Store.ReadAfterAsync(conv, 0, 10);
        Assert.AreEqual("2:original", string.Join(",", stored.Select(m => $"{m.Seq}:{m.Body}")));
        Assert.AreEqual(2, await Store.GetLastSeqAsync(other));
    }

    [TestMethod]
    public async Task ConcurrentAppendsFromManyConversationsAllCommit()
    {
        var convs = Enumerable.Range(0, 20).Select(_ => Conv()).ToList();
        var appends = convs.SelectMany(c => Enumerable.Range(1, 25).Select(seq => (c, seq)))
            .Select(x => Store.AppendAsync(Msg(x.c, x.seq)));

        await Task.WhenAll(appends);

        foreach (var c in convs)
        {
            var all = await Store.ReadAfterAsync(c, 0, 100);
            CollectionAssert.AreEqual(Enumerable.Range(1, 25).Select(i => (long)i).ToArray(), all.Select(m => m.Seq).ToArray());
        }
    }

    [TestMethod]
    public async Task FeedListsMessagesByPositionAndResumesAfterOne()
    {
        var conv = Conv();
        for (var i = 1; i <= 4; i++)
            await Store.AppendAsync(Msg(conv, i));

        var first = await Store.ReadFeedAsync(0, 2, conv);
        var rest = await Store.ReadFeedAsync(first[^1].Position, 10, conv);

        CollectionAssert.AreEqual(new long[] { 1, 2 }, first.Select(e => e.Message.Seq).ToArray());
        CollectionAssert.AreEqual(new long[] { 3, 4 }, rest.Select(e => e.Message.Seq).ToArray());
        Assert.IsTrue(rest[0].Position > first[^1].Position);
    }

    [TestMethod]
    public async Task HeadPositionIsTheLastFeedPosition()
    {
        await Store.AppendAsync(Msg(Conv(), 1));
        var head = await Store.GetHeadPositionAsync();
        Assert.IsEmpty(await Store.ReadFeedAsync(head, 10));
        Assert.AreEqual(head, (await Store.ReadFeedAsync(head - 1, 10)).Single().Position);
    }

    [TestMethod]
    public async Task PlainMessagesAndOtherEntriesInOneCommitKeepTheirOwnFields()
    {
        var conv = Conv();
        MessageRecord[] entries =
        [
            Msg(conv, 1),
            Msg(conv, 2) with { Mentions = ["bob"], ReplyTo = 1 },
            Msg(conv, 3),
            Msg(conv, 4, "👍") with { Kind = EntryKinds.React, Target = 1 },
            Msg(conv, 5),
        ];

        await Store.AppendAllAsync(entries);

        static string Fields(MessageRecord m) =>
            $"{m.Seq} {m.Body} kind={m.Kind} target={m.Target} replyTo={m.ReplyTo} mentions={string.Join(",", m.Mentions ?? [])}";
        CollectionAssert.AreEqual(entries.Select(Fields).ToArray(), (await Store.ReadAfterAsync(conv, 0, 10)).Select(Fields).ToArray());
    }

    [TestMethod]
    public async Task EntryFieldsReadBack()
    {
        var conv = Conv();
        await Store.AppendAsync(Msg(conv, 1) with { ReplyTo = null, Mentions = ["bob", "carol"] });
        await Store.AppendAsync(Msg(conv, 2) with { ReplyTo = 1 });
        await Store.AppendAsync(Msg(conv, 3, "👍") with { Kind = EntryKinds.React, Target = 1 });

        var all = await Store.ReadAfterAsync(conv, 0, 10);

        CollectionAssert.AreEqual(new[] { "bob", "carol" }, all[0].Mentions!.ToArray());
        Assert.AreEqual(1L, all[1].ReplyTo);
        Assert.IsNull(all[1].Kind);
        Assert.AreEqual(EntryKinds.React, all[2].Kind);
        Assert.AreEqual(1L, all[2].Target);
        Assert.IsFalse(all[2].Deleted);
        Assert.IsNull(all[2].EditedAt);
    }

    [TestMethod]
    public async Task AnEditRewritesTheMessageAndItsEarlierEditEntriesSoNoOldTextRemains()
    {
        var conv = Conv();
        await Store.AppendAsync(Msg(conv, 1, "first draft"));
        await Store.AppendAsync(Msg(conv, 2, "second draft") with { Kind = EntryKinds.Edit, Target = 1 });
        await Store.RewriteAsync(conv, 1, "second draft", null, Msg(conv, 2).Timestamp, deleted: false);
        await Store.AppendAsync(Msg(conv, 3, "final text") with { Kind = EntryKinds.Edit, Target = 1, Mentions = ["bob"] });
        await Store.RewriteAsync(conv, 1, "final text", ["bob"], Msg(conv, 3).Timestamp, deleted: false);

        var all = await Store.ReadAfterAsync(conv, 0, 10);

        CollectionAssert.AreEqual(new[] { "final text", "final text", "final text" }, all.Select(m => m.Body).ToArray());
        Assert.AreEqual(Msg(conv, 3).Timestamp, all[0].EditedAt, "the message is marked edited at its latest edit");
        Assert.IsNull(all[1].EditedAt, "edit entries carry no mark of their own");
        CollectionAssert.AreEqual(new[] { "bob" }, all[0].Mentions!.ToArray());
    }

    [TestMethod]
    public async Task ADeleteLeavesATombstoneWithItsSeqAndNoText()
    {
        var conv = Conv();
        await Store.AppendAsync(Msg(conv, 1, "secret") with { Mentions = ["bob"] });
        await Store.AppendAsync(Msg(conv, 2, "more secret") with { Kind = EntryKinds.Edit, Target = 1 });
        await Store.SetReactionsAsync(conv, 1, new Dictionary<string, IReadOnlyList<string>> { ["👍"] = ["bob"] });
        await Store.AppendAsync(Msg(conv, 3, "") with { Kind = EntryKinds.Delete, Target = 1 });
        await Store.RewriteAsync(conv, 1, "", null, null, deleted: true);

        var all = await Store.ReadAfterAsync(conv, 0, 10);

        CollectionAssert.AreEqual(new long[] { 1, 2, 3 }, all.Select(m => m.Seq).ToArray(), "no gap");
        Assert.IsTrue(all.All(m => m.Body == ""), "no text of the message is stored anywhere");
        Assert.IsTrue(all[0].Deleted && all[1].Deleted);
        Assert.IsNull(all[0].Mentions);
        Assert.IsNull(all[0].Reactions);
    }

    [TestMethod]
    public async Task ReactionsAreKeptOnTheMessage()
    {
        var conv = Conv();
        await Store.AppendAsync(Msg(conv, 1));
        await Store.SetReactionsAsync(conv, 1, new Dictionary<string, IReadOnlyList<string>> { ["👍"] = ["bob", "carol"], ["🎉"] = ["bob"] });

        var m = (await Store.ReadAfterAsync(conv, 0, 1)).Single();

        Assert.HasCount(2, m.Reactions!);
        CollectionAssert.AreEqual(new[] { "bob", "carol" }, m.Reactions!["👍"].ToArray());
        await Store.SetReactionsAsync(conv, 1, null);
        Assert.IsNull((await Store.ReadAfterAsync(conv, 0, 1)).Single().Reactions);
    }

    [TestMethod]
    public async Task SearchFindsLiveMessagesOfOneConversationByTheirLatestTextOnly()
    {
        var (conv, other) = (Conv(), Conv());
        await Store.AppendAsync(Msg(conv, 1, "Lunch at the harbour tomorrow?"));
        await Store.AppendAsync(Msg(conv, 2, "the harbour is closed"));
        await Store.AppendAsync(Msg(conv, 3, "harbour lunch, then") with { Kind = EntryKinds.Edit, Target = 2 });
        await Store.RewriteAsync(conv, 2, "harbour lunch, then", null, Msg(conv, 3).Timestamp, deleted: false);
        await Store.AppendAsync(Msg(conv, 4, "secret harbour plan"));
        await Store.RewriteAsync(conv, 4, "", null, null, deleted: true);
        await Store.AppendAsync(Msg(other, 1, "harbour lunch elsewhere"));

        var lunch = await Store.SearchAsync(conv, "HARBOUR lunch", long.MaxValue, 10);
        var closed = await Store.SearchAsync(conv, "closed", long.MaxValue, 10);
        var secret = await Store.SearchAsync(conv, "secret", long.MaxValue, 10);
        var older = await Store.SearchAsync(conv, "harbour", 2, 10);

        CollectionAssert.AreEqual(new long[] { 2, 1 }, lunch.Select(m => m.Seq).ToArray(), "every word, newest first, this conversation only");
        Assert.IsEmpty(closed, "an edited message is not found by its old text");
        Assert.IsEmpty(secret, "a deleted message is not found");
        CollectionAssert.AreEqual(new long[] { 1 }, older.Select(m => m.Seq).ToArray(), "pages below a seq");
        Assert.IsEmpty(await Store.SearchAsync(conv, "\"harbour\" OR *", long.MaxValue, 10), "operators are words, not syntax");
    }

    [TestMethod]
    public async Task MessagesFoundOnceAndThenEditedDeletedOrErasedAreFoundByWhatTheyNowSayOnly()
    {
        var conv = Conv();
        await Store.AppendAsync(Msg(conv, 1, "meet at the lighthouse"));
        await Store.AppendAsync(Msg(conv, 2, "the lighthouse code is 1234"));
        await Store.AppendAsync(Msg(conv, 3, "lighthouse again") with { From = "bob" });
        Assert.HasCount(3, await Store.SearchAsync(conv, "lighthouse", long.MaxValue, 10), "all three are found (and so indexed)");

        await Store.RewriteAsync(conv, 1, "meet at the pier", null, Msg(conv, 4).Timestamp, deleted: false);
        await Store.RewriteAsync(conv, 2, "", null, null, deleted: true);
        await Store.EraseSenderAsync(conv, "bob");
        await Store.AppendAsync(Msg(conv, 4, "lighthouse, after all"));

        CollectionAssert.AreEqual(new long[] { 4 }, (await Store.SearchAsync(conv, "lighthouse", long.MaxValue, 10)).Select(m => m.Seq).ToArray(),
            "neither the old text of an edit, a deleted nor an erased message is found; a new one is");
        CollectionAssert.AreEqual(new long[] { 1 }, (await Store.SearchAsync(conv, "pier", long.MaxValue, 10)).Select(m => m.Seq).ToArray());
        Assert.IsEmpty(await Store.SearchAsync(conv, "1234", long.MaxValue, 10));
    }

    [TestMethod]
    public async Task ErasingASenderTombstonesOnlyItsMessagesAndEdits()
    {
        var conv = Conv();
        await Store.AppendAsync(Msg(conv, 1, "mine"));
        await Store.AppendAsync(Msg(conv, 2, "yours") with { From = "bob" });
        await Store.AppendAsync(Msg(conv, 3, "mine, edited") with { Kind = EntryKinds.Edit, Target = 1 });
        await Store.SetReactionsAsync(conv, 2, new Dictionary<string, IReadOnlyList<string>> { ["👍"] = ["alice", "bob"], ["🎉"] = ["alice"] });

        var erased = await Store.EraseSenderAsync(conv, "alice");

        var all = await Store.ReadAfterAsync(conv, 0, 10);
        Assert.AreEqual(2, erased);
        Assert.AreEqual("👍:bob", string.Join(";", all[1].Reactions!.Select(r => $"{r.Key}:{string.Join(",", r.Value)}")),
            "alice's reactions on bob's message are gone, bob's stays");
        CollectionAssert.AreEqual(new[] { "", "yours", "" }, all.Select(m => m.Body).ToArray());
        CollectionAssert.AreEqual(new[] { true, false, true }, all.Select(m => m.Deleted).ToArray());
        Assert.IsEmpty(await Store.SearchAsync(conv, "mine", long.MaxValue, 10));
    }

    [TestMethod]
    public async Task InitializeTwiceKeepsTheData()
    {
        var conv = Conv();
        await Store.AppendAsync(Msg(conv, 1));
        await Store.InitializeAsync();
        Assert.AreEqual(1, await Store.GetLastSeqAsync(conv));
    }

    [TestMethod]
    public async Task AttachmentDescriptorsReadBackWithTheirMessage()
    {
        var conv = Conv();
        var files = new List<AttachmentInfo> { new("a-" + new string('1', 32), "pic.png", "image/png", 1234, 640, 480), new("a-" + new string('2', 32), "a.txt", "text/plain", 5) };
        await Store.AppendAsync(Msg(conv, 1) with { Attachments = files });
        await Store.AppendAsync(Msg(conv, 2));

        var all = await Store.ReadAfterAsync(conv, 0, 10);

        CollectionAssert.AreEqual(files, all[0].Attachments!.ToList());
        Assert.IsNull(all[1].Attachments, "a message without attachments has none, not an empty list");
    }
}

[TestClass]
public sealed class SqliteMessageStoreTests : MessageStoreContract
{
    private static SqliteMessageStore _store = null!;
    protected override IMessageStore Store => _store;

    [ClassInitialize]
    public static async Task Init(TestContext _)
    {
        var path = Path.Combine(TempDirectory.Create("store"), "messages.db");
        _store = new SqliteMessageStore(path, 256, Microsoft.Extensions.Logging.Abstractions.NullLogger<SqliteMessageStore>.Instance);
        await _store.InitializeAsync();
    }

    [ClassCleanup]
    public static async Task Cleanup()
    {
        if (_store is not null)
            await _store.DisposeAsync();
    }

    [TestMethod]
    public async Task TheWriterIndexesLargeBacklogsItselfAndEditsThenReachTheIndex()
    {
        // Enough appends for the writer to index them in its own commit (it does so every thousand rows).
        var conv = Conv();
        await Task.WhenAll(Enumerable.Range(1, 1200).Select(i => Store.AppendAsync(Msg(conv, i, i == 7 ? "the old quay" : $"filler {i}"))));
        await Store.RewriteAsync(conv, 7, "the new quay", null, Msg(conv, 1201).Timestamp, deleted: false);

        Assert.IsEmpty(await Store.SearchAsync(conv, "old", long.MaxValue, 10), "the edit took the old text out of the index");
        CollectionAssert.AreEqual(new long[] { 7 }, (await Store.SearchAsync(conv, "quay", long.MaxValue, 10)).Select(m => m.Seq).ToArray());
    }

    [TestMethod]
    public async Task AFileOfTheFirstSchemaVersionIsMigratedAndItsMessagesStayReadable()
    {
        var path = Path.Combine(TempDirectory.Create("store"), "messages.db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path}"))
        {
            await old.OpenAsync();
            await using var cmd = old.CreateCommand();
            // Version 1 exactly as it shipped, with one message in it.
            cmd.CommandText = """
                CREATE TABLE store_schema (version INTEGER NOT NULL);
                CREATE TABLE messages (position INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id TEXT NOT NULL, seq INTEGER NOT NULL,
                    client_id TEXT NOT NULL, sender TEXT NOT NULL, device TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL,
                    UNIQUE (conversation_id, seq));
                INSERT INTO store_schema VALUES (1);
                INSERT INTO messages (conversation_id, seq, client_id, sender, device, body, created_at) VALUES ('g-old', 1, 'c1', 'alice', 'phone', 'before', 0);
                """;
            await cmd.ExecuteNonQueryAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await using var store = new SqliteMessageStore(path, 16, Microsoft.Extensions.Logging.Abstractions.NullLogger<SqliteMessageStore>.Instance);

        await store.InitializeAsync();
        await ((IMessageStore)store).AppendAsync(new MessageRecord("g-old", 2, "c2", "alice", "phone", "after", DateTimeOffset.UnixEpoch,
            Attachments: [new AttachmentInfo("a-" + new string('3', 32), "x.gif", "image/gif", 10, 1, 1)]));

        var all = await store.ReadAfterAsync("g-old", 0, 10);
        Assert.AreEqual("before", all[0].Body);
        Assert.IsNull(all[0].Attachments);
        Assert.AreEqual("x.gif", all[1].Attachments!.Single().Name);
    }

    [TestMethod]
    public async Task ADatabaseOfTheFirstSchemaIsMigratedAndItsMessagesCanBeSearched()
    {
        var path = Path.Combine(TempDirectory.Create("store"), "messages.db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using (var conn = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await conn.OpenAsync();
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = """
                CREATE TABLE store_schema (version INTEGER NOT NULL);
                INSERT INTO store_schema (version) VALUES (1);
                CREATE TABLE messages (
                    position INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id TEXT NOT NULL, seq INTEGER NOT NULL,
                    client_id TEXT NOT NULL, sender TEXT NOT NULL, device TEXT NOT NULL, body TEXT NOT NULL,
                    created_at INTEGER NOT NULL, UNIQUE (conversation_id, seq));
                INSERT INTO messages (conversation_id, seq, client_id, sender, device, body, created_at)
                VALUES ('d:alice:bob', 1, 'c1', 'alice', 'phone', 'an old message about kayaks', 1700000000000);
                """;
            await cmd.ExecuteNonQueryAsync();
        }

        await using var store = new SqliteMessageStore(path, 16, Microsoft.Extensions.Logging.Abstractions.NullLogger<SqliteMessageStore>.Instance);
        await store.InitializeAsync();

        var old = (await store.ReadAfterAsync("d:alice:bob", 0, 10)).Single();
        Assert.IsNull(old.Kind);
        Assert.IsFalse(old.Deleted);
        Assert.AreEqual(1L, (await store.SearchAsync("d:alice:bob", "kayaks", long.MaxValue, 10)).Single().Seq);
    }
}

[TestClass]
public sealed class PostgresMessageStoreTests : MessageStoreContract
{
    private static PostgresMessageStore _store = null!;
    private static string _connectionString = "";
    protected override IMessageStore Store => _store;

    [ClassInitialize]
    public static async Task Init(TestContext _)
    {
        var cs = _connectionString = await Infrastructure.PostgresServer.CreateDatabaseAsync("store");
        // As a silo connects: statements prepared once they repeat (StorageOptions.PostgresConnectionString).
        _store = new PostgresMessageStore(new StorageOptions { PostgreSQL = cs }.PostgresConnectionString!, 256,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<PostgresMessageStore>.Instance);
        await _store.InitializeAsync();
    }

    [ClassCleanup]
    public static async Task Cleanup()
    {
        if (_store is not null)
            await _store.DisposeAsync();
    }

    [TestMethod]
    public async Task ADatabaseOfTheFirstSchemaIsMigratedAndItsMessagesCanBeSearched()
    {
        var cs = await Infrastructure.PostgresServer.CreateDatabaseAsync("migrate");
        await using (var conn = new Npgsql.NpgsqlConnection(cs))
        {
            await conn.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand("""
                CREATE TABLE im_store_schema (version int NOT NULL);
                INSERT INTO im_store_schema (version) VALUES (1);
                CREATE TABLE im_messages (
                    conversation_id text NOT NULL, seq bigint NOT NULL, position bigserial NOT NULL, client_id text NOT NULL,
                    sender text NOT NULL, device text NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL,
                    PRIMARY KEY (conversation_id, seq)) PARTITION BY HASH (conversation_id);
                CREATE TABLE im_messages_p0 PARTITION OF im_messages FOR VALUES WITH (MODULUS 2, REMAINDER 0);
                CREATE TABLE im_messages_p1 PARTITION OF im_messages FOR VALUES WITH (MODULUS 2, REMAINDER 1);
                INSERT INTO im_messages (conversation_id, seq, client_id, sender, device, body, created_at)
                VALUES ('d:alice:bob', 1, 'c1', 'alice', 'phone', 'an old message about kayaks', now());
                """, conn);
            await cmd.ExecuteNonQueryAsync();
        }

        await using var store = new PostgresMessageStore(cs, 16, Microsoft.Extensions.Logging.Abstractions.NullLogger<PostgresMessageStore>.Instance);
        await store.InitializeAsync();

        var old = (await store.ReadAfterAsync("d:alice:bob", 0, 10)).Single();
        Assert.IsNull(old.Kind);
        Assert.IsFalse(old.Deleted);
        Assert.AreEqual(1L, (await store.SearchAsync("d:alice:bob", "kayaks", long.MaxValue, 10)).Single().Seq);
    }

    [TestMethod]
    public async Task FeedReaderMissesNothingWhileTwoSilosWrite()
    {
        // A second store on the same database stands for a second silo with its own group-commit loop.
        await using var other = new PostgresMessageStore(_connectionString, 256, Microsoft.Extensions.Logging.Abstractions.NullLogger<PostgresMessageStore>.Instance);
        var start = (await _store.ReadFeedAsync(0, 1_000_000)).Select(e => e.Position).DefaultIfEmpty(0).Max();
        var convs = Enumerable.Range(0, 20).Select(_ => "g-" + Guid.NewGuid().ToString("N")).ToList();
        var seen = new List<FeedEntry>();
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(async () =>
        {
            var after = start;
            while (!stop.IsCancellationRequested || seen.Count < convs.Count * 25)
            {
                var page = await _store.ReadFeedAsync(after, 100);
                seen.AddRange(page.Where(e => convs.Contains(e.Message.Conversation)));
                after = page.Count > 0 ? page[^1].Position : after;
                if (page.Count == 0)
                    await Task.Delay(5);
            }
        });

        await Task.WhenAll(convs.Select((c, i) => Task.Run(async () =>
        {
            var store = i % 2 == 0 ? _store : other;
            for (var seq = 1; seq <= 25; seq++)
                await ((IMessageStore)store).AppendAsync(new MessageRecord(c, seq, $"m{seq}", "u", "d", "x", DateTimeOffset.UnixEpoch));
        })));
        stop.Cancel();
        await reader.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.HasCount(convs.Count * 25, seen.DistinctBy(e => (e.Message.Conversation, e.Message.Seq)).ToList(), "every message read once, none skipped");
        CollectionAssert.AreEqual(seen.Select(e => e.Position).Order().ToList(), seen.Select(e => e.Position).ToList(), "positions only grow");
    }
}
