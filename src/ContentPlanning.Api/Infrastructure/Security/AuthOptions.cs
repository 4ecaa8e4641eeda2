namespace ContentPlanning.Api.Infrastructure.Security;

/// <summary>Settings under <c>Auth</c>: who may call the feature routes.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    public const string JwtMode = "jwt";

    public const string NoneMode = "none";

    /// <summary><c>jwt</c> (default): every feature route needs a bearer token. <c>none</c>: a trusted gateway in front does it.</summary>
    public string Mode { get; set; } = JwtMode;

    /// <summary>OIDC issuer; the handler fetches its discovery document and signing keys (and refreshes them).</summary>
    public string? Authority { get; set; }

    /// <summary>The <c>aud</c> every token must carry.</summary>
    public string? Audience { get; set; }

    /// <summary>Base64 HS256 key (at least 256 bits) for development and tests, instead of an Authority.</summary>
    public string? SigningKey { get; set; }

    /// <summary>The <c>iss</c> tokens signed with <see cref="SigningKey"/> must carry.</summary>
    public string? Issuer { get; set; }

    /// <summary>The claim that names the end user a token represents.</summary>
    public string UserIdClaim { get; set; } = "sub";

    /// <summary>Only for a local, plain-http Authority (e.g. a Keycloak on localhost).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    public bool Disabled => string.Equals(Mode, NoneMode, StringComparison.OrdinalIgnoreCase);

    /// <summary>The decoded <see cref="SigningKey"/>, or null when it is unset or not base64.</summary>
    public byte[]? SigningKeyBytes()
    {
        if (string.IsNullOrWhiteSpace(SigningKey))
        {
            return null;
        }

        var buffer = new byte[SigningKey.Length];
        return Convert.TryFromBase64String(SigningKey.Trim(), buffer, out var written) ? buffer[..written] : null;
    }
}
