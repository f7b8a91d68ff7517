using Microsoft.Extensions.Logging;
using Yac.Client;
using Yac.Samples.Chat;

// A terminal chat on Yac.Client. Lines you type are sent to the open chat; "/quit" (or the end of
// standard input) leaves. The session reconnects by itself: stop a gateway replica and keep typing.
var options = ChatOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(ChatOptions.Usage);
    return 2;
}

using var quit = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    quit.Cancel();
};

using var loggerFactory = LoggerFactory.Create(logging => logging
    .SetMinimumLevel(options.Verbose ? LogLevel.Information : LogLevel.Warning)
    .AddSimpleConsole(console => console.SingleLine = true)
    .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));

using var yac = new YacClient(new YacClientOptions
{
    BaseAddress = options.Url,
    Credentials = new YacCredentials(options.User, options.Password, "YacChat"),
    LoggerFactory = loggerFactory,
});

try
{
    return await new ChatApp(yac, options, Console.In, Console.Out).RunAsync(quit.Token);
}
catch (OperationCanceledException) when (quit.IsCancellationRequested)
{
    return 0;
}
catch (YacApiException exception)
{
    Console.Error.WriteLine(exception.Message);
    return 1;
}
