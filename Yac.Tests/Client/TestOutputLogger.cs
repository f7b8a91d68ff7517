using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Yac.Tests.Client;

/// <summary>Yac.Client's logs in the test's output (shown when it fails), each line prefixed with the client's name.</summary>
public sealed class TestOutputLoggerFactory(ITestOutputHelper output, string name) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(output, name);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(ITestOutputHelper output, string name) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try
            {
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {name} {logLevel}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.GetType().Name + ": " + exception.Message)}");
            }
            catch (InvalidOperationException)
            {
                // The test has ended; its output is closed.
            }
        }
    }
}
