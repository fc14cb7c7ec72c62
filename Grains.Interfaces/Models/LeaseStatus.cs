namespace ImOrleans.Models;

/// <summary>What a device grain says when a gateway renews a connection's lease.</summary>
[GenerateSerializer, Alias("im.LeaseStatus")]
public enum LeaseStatus
{
    /// <summary>The connection is the device's current one; lease renewed.</summary>
    Current = 0,

    /// <summary>The grain knows no connection (it was reactivated): the gateway should connect it again.</summary>
    Unknown = 1,

    /// <summary>A newer connection replaced this one: the gateway should close it.</summary>
    Superseded = 2,

    /// <summary>The server ended the session (the account was disabled): the gateway should close it.</summary>
    Ended = 3,

    /// <summary>Renewed, but the user grain had forgotten the device (it was reactivated), so live traffic may have
    /// missed it meanwhile: the gateway should catch the connection up from the store.</summary>
    Resync = 4,
}
