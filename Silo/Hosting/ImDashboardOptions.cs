namespace ImOrleans.Silo.Hosting;

/// <summary>The Orleans Dashboard on the silo's HTTP port, bound from the <c>Dashboard</c> section. Off unless
/// enabled; outside Development it also needs a password (HTTP Basic), since the dashboard has no login of its own
/// and shows grain state.</summary>
public sealed class ImDashboardOptions
{
    public const string Section = "Dashboard";

    public bool Enabled { get; set; }

    public string Path { get; set; } = "/dashboard";

    public string Username { get; set; } = "admin";

    public string? Password { get; set; }
}
