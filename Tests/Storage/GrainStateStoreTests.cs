using System.Diagnostics;
using ImOrleans.Grains;
using ImOrleans.Grains.Storage;
using ImOrleans.Silo.Hosting;
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
    private static IGrainStorage Store => _host!.Services.GetRequiredKeyedService<IGrainStorage>(GrainStorage.Name);

    [ClassInitialize]
    public static async Task StartAsync(TestContext _)
    {
        var storage = new StorageOptions { DataDirectory = TempDirectory.Create("grainstate") };
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
    /// member) must not take the silo's threads: everything else it does runs on those.</summary>
    [TestMethod]
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
}
