using Yac.Bench;
using Yac.Bench.Load;

if (args is ["worker", var system])
{
    return await SocketWorker.RunWorkerAsync(system, CancellationToken.None);
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException exception)
{
    Console.Error.WriteLine(exception.Message);
    return 2;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, eventArgs) =>
{
    eventArgs.Cancel = true;
    cancellation.Cancel();
};

var runner = new BenchRunner(options, line => Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {line}"));
var report = await runner.RunAsync(cancellation.Token);
foreach (var path in await BenchRunner.WriteAsync(report, options.OutputDirectory, cancellation.Token))
{
    Console.WriteLine(path);
}

Console.WriteLine(Yac.Bench.Reporting.SummaryWriter.Render(report));
var incomplete = report.Systems.SelectMany(system => system.Latency).Any(result => result.Label == "smoke" && !result.Step.Complete);
return incomplete ? 1 : 0;
