using Yac.Bench.Systems.SignalR;
using Yac.Bench.Systems.Yac;

namespace Yac.Bench.Load;

/// <summary>The wire protocols by system name, so a worker process can speak the one it is told to.</summary>
public static class WireProtocols
{
    public static IChatWireProtocol ByName(string system) => system switch
    {
        "yac" => new YacWireProtocol(),
        "signalr" => new SignalRWireProtocol(),
        _ => throw new ArgumentException($"Unknown system '{system}'.", nameof(system)),
    };
}
