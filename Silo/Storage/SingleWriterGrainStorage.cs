using System.Collections.Concurrent;
using Orleans.Storage;

namespace ImOrleans.Silo.Storage;

/// <summary>Grain state on the embedded SQLite file, written one write at a time on a thread of its own; reads go
/// straight to the inner storage.
/// <para>Why: Microsoft.Data.Sqlite's async methods run synchronously, and a write that finds the file locked by
/// another write sleeps on its thread and tries again. Every grain writing at once (the members of a group flushing
/// their cursors after one message) held most of the silo's thread pool for a second and more, and with it every
/// timer, grain call and MQTT connection. One writer never finds the file locked by another, and blocks only its own
/// thread while SQLite syncs. Reads need no lock in WAL mode, so they are not queued behind writes.</para></summary>
public sealed class SingleWriterGrainStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly IGrainStorage _inner;
    private readonly BlockingCollection<Action> _writes = new();

    public SingleWriterGrainStorage(IGrainStorage inner)
    {
        _inner = inner;
        new Thread(WriteLoop) { IsBackground = true, Name = "grain state writer" }.Start();
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        _inner.ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Queue(() => _inner.WriteStateAsync(stateName, grainId, grainState));

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Queue(() => _inner.ClearStateAsync(stateName, grainId, grainState));

    /// <summary>The inner storage creates its queries at silo start.</summary>
    public void Participate(ISiloLifecycle lifecycle) => (_inner as ILifecycleParticipant<ISiloLifecycle>)?.Participate(lifecycle);

    /// <summary>Writes queued before this still run; later ones fail.</summary>
    public void Dispose() => _writes.CompleteAdding();

    private Task Queue(Func<Task> write)
    {
        // Answered off the writer thread: the caller's continuation must not run on it (and hold up every other write).
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Action item = () =>
        {
            try
            {
                write().GetAwaiter().GetResult(); // synchronous underneath: waiting here is what keeps writes apart
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        };
        try
        {
            _writes.Add(item);
        }
        catch (InvalidOperationException)
        {
            return Task.FromException(new ObjectDisposedException(nameof(SingleWriterGrainStorage), "the silo is shutting down"));
        }
        return done.Task;
    }

    private void WriteLoop()
    {
        foreach (var write in _writes.GetConsumingEnumerable())
            write();
    }
}
