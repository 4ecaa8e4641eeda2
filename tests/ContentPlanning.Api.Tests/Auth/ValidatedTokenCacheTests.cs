using System.Security.Claims;
using ContentPlanning.Api.Infrastructure.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ContentPlanning.Api.Tests.Auth;

public sealed class ValidatedTokenCacheTests
{
    private static readonly AuthOptions Options = new()
    {
        Issuer = "cache-test",
        Audience = "content-planning",
        SigningKey = Convert.ToBase64String("validated-token-cache-test-key-0123456789"u8.ToArray()),
    };

    [Test]
    public async Task AValidTokenIsValidatedOnceUntilItExpiresAndEveryCallerGetsItsOwnIdentity()
    {
        var (cache, inner, time) = Create();
        var token = LocalTokens.Mint(Options, "demo-alice", LocalTokens.UserScopes, TimeSpan.FromMinutes(3));

        var first = await cache.ValidateTokenAsync(token, Parameters());
        var second = await cache.ValidateTokenAsync(token, Parameters());

        Assert.That(first.IsValid && second.IsValid, Is.True);
        Assert.That(inner.Calls, Is.EqualTo(1));
        Assert.That(second.ClaimsIdentity, Is.Not.SameAs(first.ClaimsIdentity));
        Assert.That(second.ClaimsIdentity.FindFirst("sub")?.Value, Is.EqualTo("demo-alice"));
        Assert.That(second.ClaimsIdentity.FindFirst("scope")?.Value, Is.EqualTo(string.Join(' ', LocalTokens.UserScopes)));

        // One request adding a claim to its identity changes no other request's.
        first.ClaimsIdentity.AddClaim(new Claim("scope", Scopes.AnyUser));
        var third = await cache.ValidateTokenAsync(token, Parameters());
        Assert.That(third.ClaimsIdentity.FindAll("scope").Count(), Is.EqualTo(1));

        // Past the cache's bound (5 minutes, the token's own exp here is earlier: 3 minutes) it is validated again.
        time.Now += TimeSpan.FromMinutes(3) + TimeSpan.FromSeconds(1);
        await cache.ValidateTokenAsync(token, Parameters());
        Assert.That(inner.Calls, Is.EqualTo(2));
    }

    [Test]
    public async Task AnInvalidTokenIsNeverRemembered()
    {
        var (cache, inner, _) = Create();
        var other = new AuthOptions { Issuer = Options.Issuer, Audience = Options.Audience, SigningKey = Convert.ToBase64String("another-key-of-sufficient-length-0123456789"u8.ToArray()) };
        var forged = LocalTokens.Mint(other, "demo-alice", LocalTokens.ServiceScopes, TimeSpan.FromHours(1));

        Assert.That((await cache.ValidateTokenAsync(forged, Parameters())).IsValid, Is.False);
        Assert.That((await cache.ValidateTokenAsync(forged, Parameters())).IsValid, Is.False);
        Assert.That(inner.Calls, Is.EqualTo(2));
        Assert.That(cache.Count, Is.Zero);
    }

    [Test]
    public async Task DifferentTokensAreDifferentEntries()
    {
        var (cache, inner, _) = Create();
        var alice = LocalTokens.Mint(Options, "demo-alice", LocalTokens.UserScopes, TimeSpan.FromHours(1));
        var bob = LocalTokens.Mint(Options, "demo-bob", LocalTokens.UserScopes, TimeSpan.FromHours(1));

        Assert.That((await cache.ValidateTokenAsync(alice, Parameters())).ClaimsIdentity.FindFirst("sub")?.Value, Is.EqualTo("demo-alice"));
        Assert.That((await cache.ValidateTokenAsync(bob, Parameters())).ClaimsIdentity.FindFirst("sub")?.Value, Is.EqualTo("demo-bob"));
        Assert.That((await cache.ValidateTokenAsync(alice, Parameters())).ClaimsIdentity.FindFirst("sub")?.Value, Is.EqualTo("demo-alice"));
        Assert.That(inner.Calls, Is.EqualTo(2));
    }

    private static (ValidatedTokenCache Cache, CountingHandler Inner, ManualTime Time) Create()
    {
        var inner = new CountingHandler();
        var time = new ManualTime { Now = DateTimeOffset.UtcNow };
        return (new ValidatedTokenCache(inner, time), inner, time);
    }

    private static TokenValidationParameters Parameters() => new()
    {
        ValidIssuer = Options.Issuer,
        ValidAudience = Options.Audience,
        IssuerSigningKey = new SymmetricSecurityKey(Options.SigningKeyBytes()),
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
    };

    private sealed class CountingHandler : TokenHandler
    {
        private readonly JsonWebTokenHandler _inner = new() { MapInboundClaims = false };

        public int Calls { get; private set; }

        public override Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
        {
            Calls++;
            return _inner.ValidateTokenAsync(token, validationParameters);
        }
    }

    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
