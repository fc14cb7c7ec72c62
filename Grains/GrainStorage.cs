namespace ImOrleans.Grains;

/// <summary>Names shared by the grains and the silo that configures their storage.</summary>
public static class GrainStorage
{
    /// <summary>The Orleans grain storage provider that holds user, conversation and device state.</summary>
    public const string Name = "im";
}
