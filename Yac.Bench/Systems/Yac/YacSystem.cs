using System.Globalization;
using Npgsql;
using Yac.Bench.Load;
using Yac.Bench.Measurement;

namespace Yac.Bench.Systems.Yac;

/// <summary>
/// A running YAC, whoever started it (the bench through the AppHost, or the test fixture), loaded
/// through its public contract.
/// </summary>
public class YacSystem(YacEndpoints endpoints, IReadOnlyList<MeasuredProcess> processes, string? chatDbConnectionString, (string Host, int Port)? redis)
    : SystemUnderTest
{
    private readonly YacAccounts _accounts = new(endpoints);

    public override string Name => "yac";

    public override IReadOnlyList<Uri> Servers => endpoints.GatewayReplicas;

    public override IReadOnlyList<MeasuredProcess> Processes => processes;

    public override IChatWireProtocol Protocol { get; } = new YacWireProtocol();

    /// <summary>Progress of provisioning (registering users is slow on purpose: PBKDF2).</summary>
    public Action<string>? Progress { get; set; }

    public override async Task<IReadOnlyList<BenchClient>> ProvisionAsync(BenchTopology topology, CancellationToken cancellationToken)
    {
        await _accounts.EnsureAsync(topology.Users, topology.MembersPerChat, Progress, cancellationToken);
        var accounts = _accounts.Accounts.Take(topology.Users).ToList();
        return topology.CreateClients(
            [.. accounts.Select(account => account.UserId)],
            [.. accounts.Select(account => account.AccessToken)],
            _accounts.ChatIds);
    }

    public override async Task<IReadOnlyDictionary<string, double>> ReadCountersAsync(CancellationToken cancellationToken)
    {
        var counters = new Dictionary<string, double>();
        if (redis is { } server)
        {
            foreach (var (name, value) in await RedisStats.ReadAsync(server.Host, server.Port, cancellationToken))
            {
                counters[name] = value;
            }
        }

        if (chatDbConnectionString is not null)
        {
            await using var connection = new NpgsqlConnection(chatDbConnectionString);
            await connection.OpenAsync(cancellationToken);
            // Commits of the chat database (each durable message costs at most one; group commit makes it fewer).
            await using var command = new NpgsqlCommand("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()", connection);
            counters["postgresCommits"] = Convert.ToDouble(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
            await using var wal = new NpgsqlCommand("SELECT wal_records, wal_bytes, wal_sync FROM pg_stat_wal", connection);
            await using var reader = await wal.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                counters["postgresWalRecords"] = reader.GetInt64(0);
                counters["postgresWalBytes"] = Convert.ToDouble(reader.GetValue(1), CultureInfo.InvariantCulture);
                // WAL flushes to disk: with fsync on, each is a durable commit point shared by every commit it covers.
                counters["postgresWalSyncs"] = reader.GetInt64(2);
            }
        }

        return counters;
    }

    public override async Task<IReadOnlyDictionary<string, string>> DescribeAsync(CancellationToken cancellationToken)
    {
        var facts = new Dictionary<string, string>
        {
            ["server"] = "YAC gateway replicas (WebSocket contract v1), chat service storing every message in PostgreSQL, Redis pub/sub",
        };
        if (chatDbConnectionString is not null)
        {
            await using var connection = new NpgsqlConnection(chatDbConnectionString);
            await connection.OpenAsync(cancellationToken);
            foreach (var setting in new[] { "fsync", "synchronous_commit", "wal_sync_method", "server_version" })
            {
                await using var command = new NpgsqlCommand($"SHOW {setting}", connection);
                facts[$"postgres.{setting}"] = (string?)await command.ExecuteScalarAsync(cancellationToken) ?? "";
            }
        }

        return facts;
    }

    public override ValueTask DisposeAsync()
    {
        _accounts.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
