using System.Net;
using ImOrleans.Tools.LoadGen.Results;
using ImOrleans.Tools.LoadGen.Servers;
using MQTTnet;

namespace ImOrleans.Tools.LoadGen.Targets;

/// <summary>A server the workload drives, and how each scenario's connections look on it: ImOrleans
/// (conversations) or the reference broker (plain topics). Every receiver reports to <see cref="Recorder"/>.</summary>
public interface ITarget
{
    string Name { get; }

    /// <summary>The server process, for its CPU time and memory; null for a server started elsewhere.</summary>
    ServerProcess? Server { get; }

    Recorder Recorder { get; }

    /// <summary>Opens <paramref name="count"/> new sender/receiver pairs, each side on its own connection.</summary>
    Task<IReadOnlyList<Sender>> OpenPairsAsync(int count);

    /// <summary>Sets up <paramref name="receivers"/> receiving connections that all get what the returned sender sends;
    /// afterwards only those and the sender's are open (ImOrleans keeps open pair connections as members).</summary>
    Task<Sender> OpenGroupAsync(int receivers);

    /// <summary>Prepares <paramref name="count"/> idle connections (accounts and tokens).</summary>
    Task PrepareIdleAsync(int count);

    /// <summary>Idle connection number <paramref name="index"/>: authenticated (where the server has accounts),
    /// subscribed to its own topic, from <paramref name="source"/>. The caller closes it.</summary>
    Task<IdleConnection> OpenIdleAsync(int index, IPAddress source);

    /// <summary>Closes the pair and group connections that are open.</summary>
    Task CloseAsync();
}
