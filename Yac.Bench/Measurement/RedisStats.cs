using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Yac.Bench.Measurement;

/// <summary>Reads Redis's INFO counters over RESP, to show how much backplane traffic a step caused.</summary>
public static class RedisStats
{
    /// <summary>total_commands_processed and the calls of PUBLISH so far; empty if Redis does not answer.</summary>
    public static async Task<IReadOnlyDictionary<string, double>> ReadAsync(string host, int port, CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, double>();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            using var client = new TcpClient();
            await client.ConnectAsync(host, port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("INFO all\r\n"u8.ToArray(), timeout.Token);
            var text = await ReadBulkStringAsync(stream, timeout.Token);
            foreach (var line in text.Split("\r\n"))
            {
                if (line.StartsWith("total_commands_processed:", StringComparison.Ordinal))
                {
                    values["redisCommands"] = double.Parse(line.Split(':')[1], CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("total_net_output_bytes:", StringComparison.Ordinal))
                {
                    values["redisOutputBytes"] = double.Parse(line.Split(':')[1], CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("cmdstat_publish:", StringComparison.Ordinal) || line.StartsWith("cmdstat_spublish:", StringComparison.Ordinal))
                {
                    var calls = line.Split(':')[1].Split(',')[0].Split('=')[1];
                    values["redisPublishes"] = values.GetValueOrDefault("redisPublishes") + double.Parse(calls, CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException or FormatException)
        {
        }

        return values;
    }

    private static async Task<string> ReadBulkStringAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[16384];
        var expected = -1;
        var headerLength = 0;
        while (expected < 0 || received.Length < headerLength + expected)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken);
            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
            if (expected < 0)
            {
                var text = Encoding.ASCII.GetString(received.GetBuffer(), 0, (int)received.Length);
                var lineEnd = text.IndexOf("\r\n", StringComparison.Ordinal);
                if (lineEnd > 0)
                {
                    expected = int.Parse(text[1..lineEnd], CultureInfo.InvariantCulture);
                    headerLength = lineEnd + 2;
                }
            }
        }

        return Encoding.UTF8.GetString(received.GetBuffer(), headerLength, (int)received.Length - headerLength);
    }
}
