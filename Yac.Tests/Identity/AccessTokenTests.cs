using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Identity;

[Collection(YacServicesAppCollection.Name)]
public sealed class AccessTokenTests(YacAppFixture fixture)
{
    [Fact]
    public async Task AccessTokenIsAnEs256JwtWithTheContractClaims()
    {
        var user = await fixture.RegisterAndLoginAsync("claims");

        var token = new JsonWebToken(user.AccessToken);

        Assert.Equal("ES256", token.Alg);
        Assert.Equal("at+jwt", token.Typ);
        Assert.False(string.IsNullOrEmpty(token.Kid));
        Assert.Equal("yac-identity", token.Issuer);
        Assert.Equal(["yac"], token.Audiences);
        Assert.Equal(user.Id.ToString(), token.Subject);
        Assert.Equal(user.DeviceId.ToString(), token.GetClaim("did").Value);
        Assert.Equal(TimeSpan.FromMinutes(15), token.ValidTo - token.IssuedAt);
    }

    [Fact]
    public async Task JwksPublishesOnlyPublicKeysAndTheOneThatSignedTheToken()
    {
        var user = await fixture.RegisterAndLoginAsync("jwks");
        using var identity = fixture.CreateClient("identity");

        var json = await identity.GetStringAsync("/.well-known/jwks.json");
        var keySet = new JsonWebKeySet(json);
        var signingKey = Assert.Single(keySet.Keys, key => key.Kid == new JsonWebToken(user.AccessToken).Kid);
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(user.AccessToken, new TokenValidationParameters
        {
            IssuerSigningKey = signingKey,
            ValidIssuer = "yac-identity",
            ValidAudience = "yac",
        });

        Assert.True(validation.IsValid, validation.Exception?.Message);
        Assert.All(keySet.Keys, key => Assert.False(key.HasPrivateKey));
        Assert.DoesNotContain("\"d\"", json, StringComparison.Ordinal);
        Assert.Equal("EC", signingKey.Kty);
        Assert.Equal("P-256", signingKey.Crv);
    }

    [Fact]
    public async Task IdentityAcceptsItsOwnAccessToken()
    {
        var user = await fixture.RegisterAndLoginAsync("accept");
        using var identity = fixture.CreateClient("identity", user);

        using var response = await identity.GetAsync("/api/users/me");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ChatServiceAcceptsIdentitysAccessTokenThroughTheJwks()
    {
        var user = await fixture.RegisterAndLoginAsync("chataccept");
        using var chat = fixture.CreateClient("chat", user);

        using var response = await chat.GetAsync("/api/chats");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("identity", "signed by another key")]
    [InlineData("identity", "alg none")]
    [InlineData("identity", "tampered payload")]
    [InlineData("identity", "expired, signed by another key")]
    [InlineData("identity", "not a jwt")]
    [InlineData("chat", "signed by another key")]
    [InlineData("chat", "alg none")]
    [InlineData("chat", "tampered payload")]
    [InlineData("chat", "unknown key id")]
    public async Task ForgedTokensAreRefused(string service, string forgery)
    {
        var user = await fixture.RegisterAndLoginAsync("forged");
        var victim = await fixture.RegisterAndLoginAsync("victim");
        var forged = forgery switch
        {
            "signed by another key" => ForgedTokens.SignedByAnotherKey(user.AccessToken, DateTime.UtcNow.AddMinutes(10)),
            "alg none" => ForgedTokens.Unsigned(user.AccessToken),
            "tampered payload" => ForgedTokens.WithSubject(user.AccessToken, victim.Id),
            "expired, signed by another key" => ForgedTokens.SignedByAnotherKey(user.AccessToken, DateTime.UtcNow.AddMinutes(-10)),
            "unknown key id" => ForgedTokens.SignedByAnotherKey(user.AccessToken, DateTime.UtcNow.AddMinutes(10), keyId: "made-up-" + Guid.NewGuid()),
            _ => "not-a-jwt",
        };
        using var client = fixture.CreateClient(service, forged);

        using var response = await client.GetAsync(service == "chat" ? "/api/chats" : "/api/users/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}

/// <summary>Tokens an attacker could make from a real one.</summary>
internal static class ForgedTokens
{
    /// <summary>The same header (kid included) and claims, but signed by a key Identity never had.</summary>
    public static string SignedByAnotherKey(string realToken, DateTime expires, string? keyId = null)
    {
        var real = new JsonWebToken(realToken);
        using var attackerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            TokenType = real.Typ,
            Issuer = real.Issuer,
            Audience = real.Audiences.Single(),
            IssuedAt = expires.AddMinutes(-15),
            NotBefore = expires.AddMinutes(-15),
            Expires = expires,
            Claims = new Dictionary<string, object> { ["sub"] = real.Subject, ["did"] = real.GetClaim("did").Value },
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(attackerKey) { KeyId = keyId ?? real.Kid }, SecurityAlgorithms.EcdsaSha256),
        });
    }

    /// <summary>The real claims with <c>alg: none</c> and no signature.</summary>
    public static string Unsigned(string realToken)
    {
        var parts = realToken.Split('.');
        var header = JsonNode.Parse(Base64UrlEncoder.Decode(parts[0]))!.AsObject();
        header["alg"] = "none";
        return $"{Encode(header)}.{parts[1]}.";
    }

    /// <summary>The real header and signature around a payload that names another user.</summary>
    public static string WithSubject(string realToken, Guid subject)
    {
        var parts = realToken.Split('.');
        var payload = JsonNode.Parse(Base64UrlEncoder.Decode(parts[1]))!.AsObject();
        payload["sub"] = subject.ToString();
        return $"{parts[0]}.{Encode(payload)}.{parts[2]}";
    }

    private static string Encode(JsonObject json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json.ToJsonString()));
}
