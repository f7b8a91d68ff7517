using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using StackExchange.Redis;
using Yac.Contracts;
using Yac.ServiceDefaults.Messaging;

namespace Yac.Gateway.Delivery;

/// <summary>Publishes the gateway's own events (typing, presence) in the shared envelope, with the current trace context.</summary>
internal sealed class RedisPublisher(IConnectionMultiplexer redis)
{
    public Task PublishAsync<T>(string channel, string type, T data, JsonTypeInfo<T> typeInfo, CommandFlags flags = CommandFlags.None)
    {
        var envelope = EventEnvelopeTracing.CreateEnvelope(type, data, typeInfo);
        var payload = JsonSerializer.SerializeToUtf8Bytes(envelope, ContractsJsonContext.Default.EventEnvelope);
        return redis.GetSubscriber().PublishAsync(RedisChannel.Literal(channel), payload, flags);
    }
}
