using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Yac.Identity.SigningKeys;

/// <summary>A public JSON Web Key (RFC 7517): only public members exist on this type.</summary>
public sealed record PublicJsonWebKey(string Kty, string Crv, string X, string Y, string Kid, string Alg, string Use);

/// <summary>A JSON Web Key Set.</summary>
public sealed record JsonWebKeySetResponse(IReadOnlyList<PublicJsonWebKey> Keys);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PublicJsonWebKey))]
internal sealed partial class SigningKeysJsonContext : JsonSerializerContext;

public static class JwksApi
{
    /// <summary>How long a client or proxy may cache the JWKS (part of <see cref="SigningKeyRing.PublicationLead"/>).</summary>
    public static readonly TimeSpan CacheMaxAge = TimeSpan.FromSeconds(30);

    public static IEndpointRouteBuilder MapJwksApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/jwks.json", GetJwksAsync)
            .WithTags("Keys")
            .WithSummary("The public keys that sign access tokens");
        return app;
    }

    private static async Task<Ok<JsonWebKeySetResponse>> GetJwksAsync(SigningKeyRing keyRing, HttpResponse response, CancellationToken cancellationToken)
    {
        // Validators refetch on an unknown kid anyway; a short cache spares Identity the rest. A new
        // key is published for longer than this before it signs.
        response.Headers.CacheControl = $"public, max-age={(int)CacheMaxAge.TotalSeconds}";
        return TypedResults.Ok(new JsonWebKeySetResponse(await keyRing.GetPublishedKeysAsync(cancellationToken)));
    }
}
