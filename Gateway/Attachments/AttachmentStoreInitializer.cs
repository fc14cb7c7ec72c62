namespace ImOrleans.Gateway.Attachments;

/// <summary>Creates the attachment store's schema (or folder) before the gateway takes requests.</summary>
public sealed class AttachmentStoreInitializer(IAttachmentStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
