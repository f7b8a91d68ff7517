using System.Runtime.InteropServices;
using Garnet;

// The AppHost hands us the port; loopback only, like the redis-server it stands in for.
var port = Environment.GetEnvironmentVariable("YAC_REDIS_PORT") ?? "6379";
var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stopped.TrySetResult();
}

using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

// YAC keeps only pub/sub traffic and small, short-lived keys in Redis: a small index and log suffice.
using var server = new GarnetServer(["--port", port, "--bind", "127.0.0.1", "--index", "16m", "--memory", "256m"]);
server.Start();
Console.WriteLine($"Garnet listening on 127.0.0.1:{port}");
await stopped.Task;
Console.WriteLine("Garnet stopping");
