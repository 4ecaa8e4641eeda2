using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ContentPlanning.Api.Infrastructure.Security;

/// <summary>
/// Mints HS256 tokens with the node's own <c>Auth__SigningKey</c>, for local runs and tests (the <c>token</c> command).
/// With an Authority, tokens come from the provider instead.
/// </summary>
public static class LocalTokens
{
    /// <summary>Scopes of a service token: all of them, acting for any user.</summary>
    public static readonly string[] ServiceScopes = [Scopes.Read, Scopes.Write, Scopes.AnyUser];

    /// <summary>Scopes of an end user's token: read and write on the user's own data.</summary>
    public static readonly string[] UserScopes = [Scopes.Read, Scopes.Write];

    public static string Mint(AuthOptions options, string subject, IEnumerable<string> scopes, TimeSpan lifetime, DateTime? now = null)
    {
        var key = options.SigningKeyBytes() ?? throw new InvalidOperationException("Auth__SigningKey is not set (or not base64): no local tokens can be minted.");
        var issuedAt = now ?? DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            IssuedAt = issuedAt,
            NotBefore = issuedAt,
            Expires = issuedAt + lifetime,
            Subject = new ClaimsIdentity([new Claim(options.UserIdClaim, subject)]),
            Claims = new Dictionary<string, object> { ["scope"] = string.Join(' ', scopes) },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }
}
