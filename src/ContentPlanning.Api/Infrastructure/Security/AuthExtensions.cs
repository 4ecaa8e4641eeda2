using ContentPlanning.Api.Infrastructure.RequestPipeline;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace ContentPlanning.Api.Infrastructure.Security;

public static partial class AuthExtensions
{
    /// <summary>
    /// JWT bearer authentication and the API's fallback authorization policy, so every route mapped under the feature
    /// prefix (today's and tomorrow's) needs a token with the scope its HTTP method implies. Admin routes carry their own
    /// policy instead (<see cref="AdminAccess"/>).
    /// </summary>
    public static IServiceCollection AddAuth(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddHttpContextAccessor();
        services.AddScoped(sp => CurrentUser.From(sp.GetRequiredService<IHttpContextAccessor>().HttpContext, sp.GetRequiredService<IOptions<AuthOptions>>().Value));

        // Bearer tokens authenticate every request only when they are required: with Auth__Mode=none nothing reads that
        // user, and each policy that needs a scheme (admin key, dashboard cookie, stream ticket) names its own.
        services.AddAuthentication().AddJwtBearer();
        services.AddOptions<AuthenticationOptions>().Configure<IOptions<AuthOptions>>((authentication, auth) =>
        {
            if (!auth.Value.Disabled)
            {
                authentication.DefaultScheme = JwtBearerDefaults.AuthenticationScheme;
            }
        });
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<IOptions<AuthOptions>>((jwt, auth) => Configure(jwt, auth.Value));

        services.Configure<Microsoft.AspNetCore.OpenApi.OpenApiOptions>("v1", OpenApiSecurity.Apply);
        services.AddHealthChecks().AddCheck<AuthModeHealthCheck>("auth", tags: [Health.HealthEndpoints.ReadyTag]);
        services.AddSingleton<IAuthorizationHandler, ScopeByMethodHandler>();
        services.AddAuthorization();
        // With Auth__Mode=none the policy admits everyone anyway (ScopeByMethodHandler): no fallback policy then, so the
        // authorization middleware has nothing to evaluate on each request.
        services.AddOptions<AuthorizationOptions>().Configure<IOptions<AuthOptions>>((authorization, auth) =>
        {
            if (!auth.Value.Disabled)
            {
                authorization.FallbackPolicy = new AuthorizationPolicyBuilder().AddRequirements(new ScopeByMethodRequirement()).Build();
            }
        });
        return services;
    }

    /// <summary>Authentication and authorization, after the middleware that must stay open (Swagger UI, status pages).</summary>
    public static WebApplication UseAuth(this WebApplication app)
    {
        var auth = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        if (auth.Disabled)
        {
            LogAuthDisabled(app.Logger);
        }

        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    private static void Configure(JwtBearerOptions jwt, AuthOptions auth)
    {
        // Claim names stay as the token spells them (sub, scope), not the WS-Federation URIs.
        jwt.MapInboundClaims = false;
        // Validated tokens are remembered until they expire (at most 5 minutes): see ValidatedTokenCache.
        jwt.TokenHandlers.Clear();
        jwt.TokenHandlers.Add(ValidatedTokenCache.Create(TimeProvider.System));
        jwt.Audience = auth.Audience;
        jwt.TokenValidationParameters.ValidAudience = auth.Audience;
        jwt.TokenValidationParameters.NameClaimType = auth.UserIdClaim;
        jwt.TokenValidationParameters.ClockSkew = TimeSpan.FromMinutes(1);
        if (!string.IsNullOrWhiteSpace(auth.Authority))
        {
            jwt.Authority = auth.Authority;
            jwt.RequireHttpsMetadata = auth.RequireHttpsMetadata;
            return;
        }

        if (auth.SigningKeyBytes() is { } key)
        {
            jwt.TokenValidationParameters.ValidIssuer = auth.Issuer;
            jwt.TokenValidationParameters.IssuerSigningKey = new SymmetricSecurityKey(key);
            jwt.TokenValidationParameters.ValidAlgorithms = [SecurityAlgorithms.HmacSha256];
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Auth__Mode=none: feature routes accept every caller and any user_id. Run like this only behind a gateway that authenticates callers.")]
    private static partial void LogAuthDisabled(ILogger logger);
}

/// <summary>The scope a route needs follows from its HTTP method; see <see cref="Scopes.ForMethod"/>.</summary>
public sealed class ScopeByMethodRequirement : IAuthorizationRequirement;

internal sealed class ScopeByMethodHandler(IOptions<AuthOptions> options) : AuthorizationHandler<ScopeByMethodRequirement>
{
    private readonly bool _disabled = options.Value.Disabled;

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeByMethodRequirement requirement)
    {
        if (_disabled || context.Resource is not HttpContext http || !http.Request.Path.StartsWithSegments(FeatureRegistration.RoutePrefix))
        {
            // Health, OpenAPI and metrics stay open; only the feature routes hold user data.
            context.Succeed(requirement);
            return Task.CompletedTask;
        }

        if (context.User.Identity?.IsAuthenticated == true && context.User.Has(Scopes.ForMethod(http.Request.Method)))
        {
            context.Succeed(requirement);
        }

        // Not succeeded: no valid token -> 401 challenge (WWW-Authenticate: Bearer); a token without the scope -> 403.
        return Task.CompletedTask;
    }
}

/// <summary>Shows on <c>/health/ready</c> how callers are authenticated, so a node left on <c>none</c> is visible.</summary>
internal sealed class AuthModeHealthCheck(IOptions<AuthOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var auth = options.Value;
        var description = auth.Disabled
            ? "none: callers are NOT authenticated (Auth__Mode=none); only safe behind a gateway that authenticates them"
            : string.IsNullOrWhiteSpace(auth.Authority) ? "jwt: local signing key (Auth__SigningKey)" : "jwt: OIDC authority";
        var data = new Dictionary<string, object> { ["mode"] = auth.Disabled ? AuthOptions.NoneMode : AuthOptions.JwtMode };
        return Task.FromResult(HealthCheckResult.Healthy(description, data));
    }
}
