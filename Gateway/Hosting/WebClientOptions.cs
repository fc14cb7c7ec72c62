namespace ImOrleans.Gateway.Hosting;

/// <summary>The browser chat client served from the HTTP port, bound from <c>Gateway:WebClient</c>.</summary>
public sealed class WebClientOptions
{
    public const string Section = "Gateway:WebClient";

    /// <summary>On in the embedded default, off in cluster mode (see <see cref="WebClientHosting"/>).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Where the client is served: <c>/</c>, or a path such as <c>/chat</c>.</summary>
    public string Path { get; set; } = "/";
}
