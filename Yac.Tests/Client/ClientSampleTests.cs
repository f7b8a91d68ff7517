using System.Diagnostics;
using System.Threading.Channels;
using Yac.Client;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Client;

/// <summary>samples/YacChat run as a process, its standard input and output redirected.</summary>
[Collection(YacAppCollection.Name)]
public sealed class ClientSampleTests(YacAppFixture fixture)
{
    private static readonly TimeSpan s_step = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TheSampleRegistersSendsATypedLineAndShowsTheReply()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using var bob = await fixture.SignInClientAsync("bob", timeout.Token);
        await using var bobEvents = new ClientEventLog(await bob.Client.ConnectAsync(cancellationToken: timeout.Token));
        var alice = TestUsers.UniqueUsername("alice");
        var sample = Path.Combine(RepositoryPaths.Root, "samples", "YacChat", "bin", RepositoryPaths.Configuration, "net10.0", "YacChat.dll");
        Assert.True(File.Exists(sample), $"{sample} is built with the tests");

        var start = new ProcessStartInfo("dotnet", [sample, "--url", fixture.GatewayUrl().ToString(), "--user", alice, "--with", bob.User.Username])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["YAC_PASSWORD"] = TestUsers.DefaultPassword;
        using var process = Process.Start(start)!;
        var output = new List<string>();
        var lines = Channel.CreateUnbounded<string>();
        var errors = new List<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                lines.Writer.TryComplete();
                return;
            }

            lock (output)
            {
                output.Add(e.Data);
            }

            lines.Writer.TryWrite(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (errors)
                {
                    errors.Add(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await WaitForLineAsync(lines, line => line.StartsWith("Opened your chat with", StringComparison.Ordinal), timeout.Token);
            var text = $"hello from the sample {Guid.NewGuid():N}";
            await process.StandardInput.WriteLineAsync(text.AsMemory(), timeout.Token);
            await process.StandardInput.FlushAsync(timeout.Token);

            await bobEvents.WaitUntilAsync(_ => bobEvents.Snapshot().OfType<YacMessageEvent>().Any(e => e.Message.Text == text), s_step, "the sample's line", timeout.Token);
            var received = bobEvents.Snapshot().OfType<YacMessageEvent>().Single(e => e.Message.Text == text).Message;
            await bobEvents.Session.SendAsync(received.ChatId, "hi back from bob", timeout.Token);
            await WaitForLineAsync(lines, line => line.EndsWith(": hi back from bob", StringComparison.Ordinal), timeout.Token);

            await process.StandardInput.WriteLineAsync("/quit".AsMemory(), timeout.Token);
            await process.StandardInput.FlushAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token).WaitAsync(s_step, timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        var shown = Snapshot(output);
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {string.Join('\n', shown.Concat(Snapshot(errors)))}");
        Assert.Contains($"Registered and signed in as {alice}.", shown);
        Assert.Single(shown, line => line.Contains(" me: hello from the sample ", StringComparison.Ordinal));
    }

    private static async Task WaitForLineAsync(Channel<string> lines, Func<string, bool> match, CancellationToken cancellationToken)
    {
        using var step = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        step.CancelAfter(s_step);
        await foreach (var line in lines.Reader.ReadAllAsync(step.Token))
        {
            if (match(line))
            {
                return;
            }
        }

        Assert.Fail("The sample's output ended before the expected line.");
    }

    private static List<string> Snapshot(List<string> lines)
    {
        lock (lines)
        {
            return [.. lines];
        }
    }
}
