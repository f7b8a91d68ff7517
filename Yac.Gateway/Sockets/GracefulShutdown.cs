using Yac.Gateway.Delivery;

namespace Yac.Gateway.Sockets;

/// <summary>
/// On SIGTERM every socket gets 1012 (reconnect elsewhere) right away, while the server still runs,
/// so that the replica's requests end and it exits within the host's shutdown timeout.
/// </summary>
internal sealed class GracefulShutdown(IHostApplicationLifetime lifetime, WsPool pool) : IHostedService
{
    private CancellationTokenRegistration _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = lifetime.ApplicationStopping.Register(() => _ = pool.CloseAllAsync().AsTask());
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _registration.Dispose();
        return Task.CompletedTask;
    }
}
