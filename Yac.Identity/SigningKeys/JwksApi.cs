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
    public static IEndpointRouteBuilder MapJwksApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/jwks.json", GetJwksAsync)
            .WithTags("Keys")
            .WithSummary("The public keys that sign access tokens");
        return app;
    }

    private static async Task<Ok<JsonWebKeySetResponse>> GetJwksAsync(SigningKeyRing keyRing, HttpResponse response, CancellationToken cancellationToken)
    {
        // Validators refetch on an unknown kid anyway; a short cache spares Identity the rest.
        response.Headers.CacheControl = "public, max-age=300";
        return TypedResults.Ok(new JsonWebKeySetResponse(await keyRing.GetPublishedKeysAsync(cancellationToken)));
    }
}
