namespace ImOrleans.Tools.LoadGen.Results;

/// <summary>Where the receivers of one server report: the stats of the scenario running now. Connections outlive a
/// scenario (the same 100 pairs serve several), so each scenario swaps in fresh stats.</summary>
public sealed class Recorder
{
    private volatile ScenarioStats? _current;

    public ScenarioStats? Current => _current;

    public ScenarioStats Begin(int copiesPerMessage = 1) => _current = new ScenarioStats(copiesPerMessage);
}
