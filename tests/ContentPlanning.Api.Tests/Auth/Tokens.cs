using System.Security.Claims;
using System.Text;
using ContentPlanning.Api.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ContentPlanning.Api.Tests.Auth;

/// <summary>Tokens minted locally, good and bad, against the test nodes' settings (<see cref="ApiFactory.Auth"/>).</summary>
internal static class Tokens
{
    public static string User(string userId, params string[] scopes) => ApiFactory.UserToken(userId, scopes);

    public static string Mint(
        string subject = "alice", string scope = "content-planning.read content-planning.write", string? issuer = null, string? audience = null,
        DateTime? notBefore = null, DateTime? expires = null, byte[]? key = null)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer ?? ApiFactory.Issuer,
            Audience = audience ?? ApiFactory.Audience,
            IssuedAt = (notBefore ?? now) < now ? notBefore : now,
            NotBefore = notBefore ?? now.AddMinutes(-1),
            Expires = expires ?? now.AddHours(1),
            Subject = new ClaimsIdentity([new Claim("sub", subject)]),
            Claims = new Dictionary<string, object> { ["scope"] = scope },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key ?? ApiFactory.Auth.SigningKeyBytes()), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>An unsigned token (<c>alg: none</c>) with otherwise valid claims.</summary>
    public static string Unsigned(string subject = "alice")
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes("""{"alg":"none","typ":"JWT"}"""));
        var payload = Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(
            $$"""{"sub":"{{subject}}","iss":"{{ApiFactory.Issuer}}","aud":"{{ApiFactory.Audience}}","nbf":{{now - 60}},"exp":{{now + 3600}},"scope":"content-planning.read content-planning.write content-planning.any-user"}"""));
        return header + "." + payload + ".";
    }
}
