using System.Diagnostics;
using ImOrleans.Grains;
using ImOrleans.Grains.Devices;
using ImOrleans.Grains.Storage;
using ImOrleans.Silo.Hosting;
using ImOrleans.Silo.Storage;
using ImOrleans.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Storage;

namespace ImOrleans.Tests.Storage;

/// <summary>Grain state on the embedded SQLite file, through the storage the silo configures.</summary>
[TestClass]
public sealed class GrainStateStoreTests
{
    private static IHost? _host;
    private static StorageOptions? _storage;
    private static IGrainStorage Store => _host!.Services.GetRequiredKeyedService<IGrainStorage>(GrainStorage.Name);

    [ClassInitialize]
    public static async Task StartAsync(TestContext _)
    {
        var storage = _storage = new StorageOptions { DataDirectory = TempDirectory.Create("grainstate") };
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: FreePort.Next(), gatewayPort: FreePort.Next());
            silo.AddImGrains(storage);
        });
        _host = builder.Build();
        await _host.StartAsync();
    }

    [ClassCleanup]
    public static async Task StopAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
        }
    }

    [TestMethod]
    public async Task AWriteIsReadBackAndAStaleOneIsRefused()
    {
        var id = GrainId.Create("user", Unique.User());
        var first = new GrainState<string>("first");
        await Store.WriteStateAsync("user", id, first);
        var stale = new GrainState<string>("stale") { ETag = first.ETag };
        first.State = "second";
        await Store.WriteStateAsync("user", id, first);

        await Assert.ThrowsExactlyAsync<InconsistentStateException>(() => Store.WriteStateAsync("user", id, stale));
        var read = new GrainState<string>();
        await Store.ReadStateAsync("user", id, read);
        Assert.AreEqual(("second", true, first.ETag), (read.State, read.RecordExists, read.ETag));
    }

    /// <summary>A thousand device grains flushing their cursors at once (a group message acknowledged by every
    /// member) must not take the silo's threads: everything else it does runs on those. Run alone: the thread pool is
    /// the test process's, shared in a full run with the classes running beside it; there it once measured 740 ms,
    /// where alone it measures 2-120 ms.</summary>
    [TestMethod]
    [DoNotParallelize]
    public async Task ManyWritesAtOnceLeaveTheThreadPoolResponsive()
    {
        using var stop = new CancellationTokenSource();
        var worstLag = TimeSpan.Zero;
        var probe = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var start = Stopwatch.GetTimestamp();
                await Task.Delay(10);
                var lag = Stopwatch.GetElapsedTime(start) - TimeSpan.FromMilliseconds(10);
                if (lag > worstLag)
                    worstLag = lag;
            }
        });

        var run = Unique.User("w");
        var took = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => Task.Run(() =>
            Store.WriteStateAsync("device", GrainId.Create("device", $"{run}{i}/d"), new GrainState<string>($"cursor {i}")))));
        took.Stop();
        await stop.CancelAsync();
        await probe;

        Console.WriteLine($"1000 writes took {took.ElapsedMilliseconds} ms; worst thread-pool lag {worstLag.TotalMilliseconds:F0} ms");
        Assert.IsLessThan(TimeSpan.FromMilliseconds(500), worstLag, $"the thread pool stalled for {worstLag.TotalMilliseconds:F0} ms");
    }

    /// <summary>Grains writing at once share transactions (and syncs to disk) instead of taking one each.</summary>
    [TestMethod]
    public async Task WritesMadeAtOnceAreCommittedTogether()
    {
        var storage = (SqliteGrainStorage)Store;
        var before = storage.Committed;
        var run = Unique.User("g");
        await Task.WhenAll(Enumerable.Range(0, 500).Select(i => Task.Run(() =>
            Store.WriteStateAsync("device", GrainId.Create("device", $"{run}{i}/d"), new GrainState<string>($"cursor {i}")))));
        var (commits, writes) = (storage.Committed.Commits - before.Commits, storage.Committed.Writes - before.Writes);

        Console.WriteLine($"500 writes in {commits} transactions");
        Assert.AreEqual(500, writes);
        Assert.IsLessThan(250, commits, $"500 writes took {commits} transactions");
        var read = new GrainState<string>();
        await Store.ReadStateAsync("device", GrainId.Create("device", $"{run}499/d"), read);
        Assert.AreEqual(("cursor 499", true), (read.State, read.RecordExists));
    }

    [TestMethod]
    public async Task AClearedStateReadsAsNewAndAStaleClearIsRefused()
    {
        var id = GrainId.Create("user", Unique.User());
        var state = new GrainState<string>("kept");
        await Store.WriteStateAsync("user", id, state);
        var stale = new GrainState<string> { ETag = state.ETag };
        await Store.ClearStateAsync("user", id, state);

        Assert.IsNull(state.State, "a cleared state starts over");
        await Assert.ThrowsExactlyAsync<InconsistentStateException>(() => Store.ClearStateAsync("user", id, stale));
        var read = new GrainState<string>("left over");
        await Store.ReadStateAsync("user", id, read);
        Assert.AreEqual((null, false, state.ETag), (read.State, read.RecordExists, read.ETag));
        read.State = "again";
        await Store.WriteStateAsync("user", id, read); // a cleared state is written on from its ETag
    }

    /// <summary>An installation upgraded from the Orleans ADO.NET provider: what that kept is still read, and once the
    /// grain writes or clears its state here, the old copy is never read again.</summary>
    [TestMethod]
    public async Task StateKeptByTheEarlierProviderIsReadUntilTheGrainWritesItsOwn()
    {
        var storage = new StorageOptions { DataDirectory = TempDirectory.Create("grainstate-upgrade") };
        var connectionString = SiloHostingExtensions.SqliteConnectionString(storage);
        Directory.CreateDirectory(storage.DataDirectory);
        await OrleansSchema.ApplySqliteAsync(connectionString);
        var (written, cleared, none) = (GrainId.Create("device", Unique.User() + "/d"), GrainId.Create("device", Unique.User() + "/d"), GrainId.Create("device", Unique.User() + "/d"));
        await WithSiloAsync(silo => silo.AddAdoNetGrainStorage(GrainStorage.Name, o => { o.Invariant = "System.Data.SQLite"; o.ConnectionString = connectionString; }),
            async old =>
            {
                await old.WriteStateAsync("device", written, Cursors(("c1", 5)));
                await old.WriteStateAsync("device", cleared, Cursors(("c2", 7)));
            });

        await WithSiloAsync(silo => silo.AddImGrains(storage), async store =>
        {
            var a = new GrainState<DeviceState>();
            await store.ReadStateAsync("device", written, a);
            Assert.AreEqual((5L, true), (a.State!.Cursors["c1"], a.RecordExists));
            a.State!.Cursors["c1"] = 9;
            await store.WriteStateAsync("device", written, a);
            var b = new GrainState<DeviceState>();
            await store.ReadStateAsync("device", cleared, b);
            Assert.AreEqual(7L, b.State!.Cursors["c2"]);
            await store.ClearStateAsync("device", cleared, b);
            Assert.IsEmpty(b.State!.Cursors);
            var c = new GrainState<DeviceState>();
            await store.ReadStateAsync("device", none, c);
            Assert.AreEqual((0, false), (c.State!.Cursors.Count, c.RecordExists));
        });

        await WithSiloAsync(silo => silo.AddImGrains(storage), async store =>
        {
            var (a, b) = (new GrainState<DeviceState>(), new GrainState<DeviceState>());
            await store.ReadStateAsync("device", written, a);
            await store.ReadStateAsync("device", cleared, b);
            Assert.AreEqual((9L, true), (a.State!.Cursors["c1"], a.RecordExists));
            Assert.AreEqual((0, false), (b.State!.Cursors.Count, b.RecordExists), "the cleared state came back from the old provider");
        });
    }

    private static GrainState<DeviceState> Cursors(params (string Conversation, long Seq)[] cursors) =>
        new(new DeviceState { Cursors = cursors.ToDictionary(c => c.Conversation, c => c.Seq) });

    private static async Task WithSiloAsync(Action<ISiloBuilder> configure, Func<IGrainStorage, Task> use)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: FreePort.Next(), gatewayPort: FreePort.Next());
            configure(silo);
        });
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            await use(host.Services.GetRequiredKeyedService<IGrainStorage>(GrainStorage.Name));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    /// <summary>Reads run side by side on pooled connections; each must get its own grain's state.</summary>
    [TestMethod]
    public async Task ReadsAtOnceEachGetTheirOwnGrainsState()
    {
        var run = Unique.User("r");
        var ids = Enumerable.Range(0, 200).Select(i => GrainId.Create("device", $"{run}{i}/d")).ToList();
        await Task.WhenAll(ids.Select((id, i) => Store.WriteStateAsync("device", id, new GrainState<string>($"state {i}"))));

        for (var round = 0; round < 5; round++)
        {
            var reads = await Task.WhenAll(ids.Select(id => Task.Run(async () =>
            {
                var read = new GrainState<string>();
                await Store.ReadStateAsync("device", id, read);
                return (read.State, read.RecordExists);
            })));
            CollectionAssert.AreEqual(ids.Select((_, i) => ($"state {i}", true)).ToList(), reads.ToList(), $"round {round}");
        }
    }

    /// <summary>A write the database refuses fails alone, not with the writes committed beside it.</summary>
    [TestMethod]
    public async Task AWriteTheDatabaseRefusesFailsAlone()
    {
        var run = Unique.User("p");
        await using var db = new Microsoft.Data.Sqlite.SqliteConnection(SiloHostingExtensions.SqliteConnectionString(_storage!));
        await db.OpenAsync();
        await using (var trigger = db.CreateCommand())
        {
            trigger.CommandText = $"CREATE TRIGGER \"refuse_{run}\" BEFORE INSERT ON grain_state WHEN NEW.grain_id LIKE '%{run}poison%' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;";
            await trigger.ExecuteNonQueryAsync();
        }
        try
        {
            var writes = Enumerable.Range(0, 50).Select(i => (Id: GrainId.Create("device", i == 25 ? $"{run}poison/d" : $"{run}{i}/d"), State: new GrainState<string>($"s{i}"))).ToList();
            var outcomes = await Task.WhenAll(writes.Select(w => Task.Run(async () =>
            {
                try
                {
                    await Store.WriteStateAsync("device", w.Id, w.State);
                    return null;
                }
                catch (Exception ex)
                {
                    return ex;
                }
            })));

            StringAssert.Contains(outcomes[25]?.Message, "refused by the test");
            Assert.AreEqual(49, outcomes.Count(o => o is null), string.Join("; ", outcomes.OfType<Exception>().Select(e => e.Message)));
            var read = new GrainState<string>();
            await Store.ReadStateAsync("device", writes[49].Id, read);
            Assert.AreEqual(("s49", true), (read.State, read.RecordExists));
        }
        finally
        {
            await using var drop = db.CreateCommand();
            drop.CommandText = $"DROP TRIGGER \"refuse_{run}\";";
            await drop.ExecuteNonQueryAsync();
        }
    }
}
