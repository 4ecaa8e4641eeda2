using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Api.Infrastructure.Security;

/// <summary>
/// Who may call the admin routes, decided in one place: the <see cref="Policy"/> admits a bearer token with
/// <see cref="Scopes.Admin"/> or the <c>X-Admin-Key</c> header (the <see cref="Scheme"/> authentication scheme). Without
/// either the answer is 401; a token without the admin scope (and no key) is 403. Authorization runs before the endpoint
/// binds its body, so a refused caller never gets a 400 about a body it had no right to send.
/// </summary>
public static class AdminAccess
{
    public const string Scheme = "AdminKey";

    public const string Policy = "Admin";

    public const string HeaderName = "X-Admin-Key";

    /// <summary>The claim an admin-key caller carries: a hash of the key it presented (so a changed key revokes what it signed).</summary>
    public const string KeyClaim = "admin_key";

    public static IServiceCollection AddAdminAccess(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AdminOptions>().Bind(configuration.GetSection(AdminOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AdminKeyHandler>(Scheme, null);
        services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy
            .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme, Scheme)
            .RequireAssertion(context => IsAdmin(context.User)));
        return services;
    }

    /// <summary>The admin policy on a group or route, with the 401/403 it may answer in the OpenAPI document.</summary>
    public static TBuilder RequireAdmin<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(Policy)
            .WithMetadata(AdminRouteMetadata.Instance)
            .WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status401Unauthorized, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), ["application/problem+json"]))
            .WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status403Forbidden, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), ["application/problem+json"]));

    public static bool IsAdmin(ClaimsPrincipal user) => user.HasClaim(c => c.Type == KeyClaim) || user.Has(Scopes.Admin);

    /// <summary>A fingerprint of the configured key (null when none is set): what <see cref="KeyClaim"/> holds.</summary>
    public static string? KeyFingerprint(string? key) =>
        key is { Length: > 0 } ? Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("content-planning-admin:" + key))) : null;

    /// <summary>Whether <paramref name="supplied"/> is the configured key (constant-time, also in the key's length).</summary>
    public static bool KeyMatches(string? configured, string supplied) =>
        configured is { Length: > 0 } && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(configured)), SHA256.HashData(Encoding.UTF8.GetBytes(supplied)));

    /// <summary>The <c>X-Admin-Key</c> scheme: no header, no result; the configured key, an admin; any other value, a failure.</summary>
    private sealed class AdminKeyHandler(IOptionsMonitor<AuthenticationSchemeOptions> schemes, ILoggerFactory logger, UrlEncoder encoder, IOptions<AdminOptions> admin)
        : AuthenticationHandler<AuthenticationSchemeOptions>(schemes, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Request.Headers[HeaderName].ToString() is not { Length: > 0 } supplied)
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            if (!KeyMatches(admin.Value.ApiKey, supplied))
            {
                return Task.FromResult(AuthenticateResult.Fail($"The {HeaderName} header does not hold the configured admin key."));
            }

            var identity = new ClaimsIdentity([new Claim(KeyClaim, KeyFingerprint(admin.Value.ApiKey)!)], AdminAccess.Scheme);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), AdminAccess.Scheme)));
        }

        // The bearer scheme's challenge (401, WWW-Authenticate: Bearer) runs first; this one writes the problem body.
        protected override Task HandleChallengeAsync(AuthenticationProperties properties) => WriteAsync(StatusCodes.Status401Unauthorized, "Unauthorized",
            $"This endpoint requires the {HeaderName} header with the configured admin key, or a bearer token with the {Scopes.Admin} scope.");

        // A token without the admin scope is a 403, unless the caller also sent a key, a wrong one: then a 401, as without a token.
        protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
        {
            if (Request.Headers.ContainsKey(HeaderName))
            {
                Response.Headers.WWWAuthenticate = "Bearer";
                return HandleChallengeAsync(properties);
            }

            return WriteAsync(StatusCodes.Status403Forbidden, "Forbidden", $"This endpoint requires the {Scopes.Admin} scope or the {HeaderName} header.");
        }

        private async Task WriteAsync(int status, string title, string detail)
        {
            if (Response.HasStarted)
            {
                return;
            }

            await TypedResults.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(Context);
        }
    }
}

/// <summary>Marks an admin route (set by <see cref="AdminAccess.RequireAdmin"/>): the OpenAPI document and the tests read it.</summary>
public sealed class AdminRouteMetadata
{
    public static readonly AdminRouteMetadata Instance = new();
}
