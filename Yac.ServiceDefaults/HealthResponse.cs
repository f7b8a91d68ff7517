using System.Text.Json.Serialization;

namespace Microsoft.Extensions.Hosting;

internal sealed record HealthResponse(string Status, Dictionary<string, string> Checks);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(HealthResponse))]
internal sealed partial class HealthJsonContext : JsonSerializerContext;
