namespace ImOrleans.ImCtl;

/// <summary>What the exit status tells a script.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The server refused or failed the call (the status code name is on stderr).</summary>
    public const int RpcError = 1;

    /// <summary>The command line is wrong; nothing was sent.</summary>
    public const int Usage = 2;

    /// <summary>The server could not be reached, or the connection dropped.</summary>
    public const int CannotConnect = 3;
}

/// <summary>A command line that parses but makes no sense (exit code 2).</summary>
public sealed class UsageException(string message) : Exception(message);
