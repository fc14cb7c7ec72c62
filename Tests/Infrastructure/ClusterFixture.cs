using ImOrleans.Grains;
using ImOrleans.Grains.Storage;
using ImOrleans.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;

namespace ImOrleans.Tests.Infrastructure;

/// <summary>One in-process silo shared by every grain test, on the real embedded storage (SQLite files
/// in a temp folder, the message store wrapped in <see cref="FaultyMessageStore"/>), with small limits so that
/// the limit rules can be hit cheaply.</summary>
public static class ClusterFixture
{
    public const int MaxGroupMembers = 5;
    public const int MaxDevicesPerUser = 3;
    public const int MaxBodyLength = 100;
    public const int DeliveryWindow = 50;
    public const int MaxConversationsPerUser = 20;
    public const int MaxConversationsFromOneUser = 3;
    public const int MaxGroupForReadEvents = 2;
    public const int MaxGroupForTypingEvents = 4;
    public const int MaxGroupForMemberEvents = 3;
    public const int MaxSyncBytes = 2000;
    public static readonly TimeSpan EditWindow = TimeSpan.FromSeconds(5);

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static InProcessTestCluster? _cluster;

    public static async Task<IClusterClient> ClientAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_cluster is null)
            {
                var storage = new StorageOptions { DataDirectory = TempDirectory.Create("grains") };
                var builder = new InProcessTestClusterBuilder(1);
                builder.ConfigureSilo((_, silo) =>
                {
                    silo.AddImGrains(storage);
                    // Registered last, so the grains get the real store wrapped in one that tests can make fail.
                    silo.Services.AddSingleton<IMessageStore>(sp => new FaultyMessageStore(
                        MessageStoreServiceCollectionExtensions.Create(storage, sp.GetRequiredService<ILoggerFactory>())));
                    silo.Services.Configure<ChatLimits>(l =>
                    {
                        l.MaxGroupMembers = MaxGroupMembers;
                        l.MaxDevicesPerUser = MaxDevicesPerUser;
                        l.MaxBodyLength = MaxBodyLength;
                        l.MaxConversationsPerUser = MaxConversationsPerUser;
                        l.MaxConversationsFromOneUser = MaxConversationsFromOneUser;
                        l.MaxGroupForReadEvents = MaxGroupForReadEvents;
                        l.MaxGroupForTypingEvents = MaxGroupForTypingEvents;
                        l.MaxGroupForMemberEvents = MaxGroupForMemberEvents;
                        l.MaxSyncBytes = MaxSyncBytes;
                        l.EditWindow = EditWindow;
                    });
                });
                var cluster = builder.Build();
                await cluster.DeployAsync();
                _cluster = cluster;
            }
            return _cluster.Client;
        }
        finally
        {
            Gate.Release();
        }
    }

    public static async Task DisposeAsync()
    {
        if (_cluster is not null)
            await _cluster.DisposeAsync();
    }
}

[TestClass]
public static class AssemblyHooks
{
    [AssemblyCleanup]
    public static async Task Cleanup()
    {
        try
        {
            await ClusterFixture.DisposeAsync();
            await GatewayFixture.DisposeAsync();
            await PostgresServer.StopAsync();
        }
        finally
        {
            TempDirectory.DeleteAll();
        }
    }
}
